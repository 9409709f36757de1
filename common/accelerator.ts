// Hotkeys as people meet them: recorded from the keys pressed, shown the way their OS writes shortcuts
// (`Ctrl+Alt+M` on Windows and Linux, `⌥⌘M` on macOS), and stored in Electron's accelerator syntax
// (`CommandOrControl+Alt+M`), which is what `globalShortcut.register` and the settings file take.
// Pure: the settings window and the main process both use it.

export type AcceleratorPlatform = 'mac' | 'windows' | 'linux';

/** From `navigator.platform` (`MacIntel`, `Win32`, `Linux x86_64`) or Node's `process.platform`. */
export function acceleratorPlatform(platform: string): AcceleratorPlatform {
  const p = platform.toLowerCase();
  return p.startsWith('mac') || p === 'darwin' ? 'mac' : p.startsWith('win') ? 'windows' : 'linux';
}

/** The parts of a KeyboardEvent that a hotkey is made of. */
export interface KeyPress {
  /** The physical key (`KeyK`), the same whatever the keyboard layout: Ctrl+Alt+K stays K on a Russian layout. */
  code: string;
  key: string;
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
}

const CODE_KEYS: Record<string, string> = {
  Space: 'Space', Tab: 'Tab', Backspace: 'Backspace', Delete: 'Delete', Insert: 'Insert', Enter: 'Enter', NumpadEnter: 'Enter',
  ArrowUp: 'Up', ArrowDown: 'Down', ArrowLeft: 'Left', ArrowRight: 'Right', Home: 'Home', End: 'End', PageUp: 'PageUp', PageDown: 'PageDown',
  Escape: 'Escape', NumpadAdd: 'numadd', NumpadSubtract: 'numsub', NumpadMultiply: 'nummult', NumpadDivide: 'numdiv',
  Minus: '-', Equal: '=', BracketLeft: '[', BracketRight: ']', Backslash: '\\', Semicolon: ';', Quote: "'", Comma: ',', Period: '.', Slash: '/', Backquote: '`',
};

const MODIFIER_CODES = /^(Control|Alt|Shift|Meta|OS)(Left|Right)?$|^AltGraph$/;

/** The key's name in Electron's syntax, or null for a modifier alone or a key Electron has no name for. */
function keyName(code: string): string | null {
  if (MODIFIER_CODES.test(code)) return null;
  const letter = /^Key([A-Z])$/.exec(code);
  if (letter) return letter[1] as string;
  const digit = /^Digit([0-9])$/.exec(code);
  if (digit) return digit[1] as string;
  const numpad = /^Numpad([0-9])$/.exec(code);
  if (numpad) return `num${numpad[1] as string}`;
  if (/^F([1-9]|1[0-9]|2[0-4])$/.test(code)) return code;
  return CODE_KEYS[code] ?? null;
}

/**
 * The modifiers held, in Electron's names and a fixed order. The key that means "command" on this OS (⌘ on a Mac,
 * Ctrl elsewhere) is stored as `CommandOrControl`, so a settings file copied between OSes keeps working.
 */
export function heldModifiers(press: Omit<KeyPress, 'code' | 'key'>, platform: AcceleratorPlatform): string[] {
  const mac = platform === 'mac';
  const modifiers: string[] = [];
  if (mac ? press.metaKey : press.ctrlKey) modifiers.push('CommandOrControl');
  if (mac ? press.ctrlKey : false) modifiers.push('Control');
  if (press.altKey) modifiers.push('Alt');
  if (press.shiftKey) modifiers.push('Shift');
  if (!mac && press.metaKey) modifiers.push('Super');
  return modifiers;
}

/** The accelerator a key press records (`CommandOrControl+Alt+K`), or null while only modifiers are held. */
export function acceleratorFromKeyPress(press: KeyPress, platform: AcceleratorPlatform): string | null {
  const key = keyName(press.code);
  if (key === null) return null;
  return [...heldModifiers(press, platform), key].join('+');
}

/** Splits an accelerator into its modifiers and key: `Alt++` is Alt and the + key, like `Alt+Plus`. */
export function parseAccelerator(accelerator: string): { modifiers: string[]; key: string } {
  if (accelerator === '') return { modifiers: [], key: '' };
  const plusKey = accelerator.endsWith('++') || accelerator === '+';
  const parts = (plusKey ? accelerator.slice(0, -1) : accelerator).split('+').filter((part) => part !== '');
  const key = plusKey ? '+' : (parts.pop() ?? '');
  return { modifiers: parts, key };
}

type Shown = 'command' | 'control' | 'alt' | 'altgr' | 'shift' | 'super';

const MODIFIER_MEANING: Record<string, Shown> = {
  CommandOrControl: 'command', CmdOrCtrl: 'command', Command: 'super', Cmd: 'super', Meta: 'super', Super: 'super',
  Control: 'control', Ctrl: 'control', Alt: 'alt', Option: 'alt', AltGr: 'altgr', Shift: 'shift',
};

/** macOS writes modifiers as symbols in this order: ⌃ ⌥ ⇧ ⌘ (Apple's Human Interface Guidelines). */
const MAC_ORDER: Shown[] = ['control', 'alt', 'altgr', 'shift', 'command', 'super'];
const MAC_SYMBOL: Record<Shown, string> = { control: '⌃', alt: '⌥', altgr: '⌥', shift: '⇧', command: '⌘', super: '⌘' };
const PC_ORDER: Shown[] = ['command', 'control', 'alt', 'altgr', 'shift', 'super'];

const MAC_KEYS: Record<string, string> = {
  Up: '↑', Down: '↓', Left: '←', Right: '→', Return: '↩', Enter: '↩', Backspace: '⌫', Delete: '⌦', Tab: '⇥', Escape: '⎋', Esc: '⎋',
  PageUp: '⇞', PageDown: '⇟', Home: '↖', End: '↘', Space: 'Space', Plus: '+',
};
const PC_KEYS: Record<string, string> = { Return: 'Enter', Escape: 'Esc', Delete: 'Del', Insert: 'Ins', Plus: '+', PageUp: 'PgUp', PageDown: 'PgDn' };

function displayKey(key: string, platform: AcceleratorPlatform): string {
  const numpad = /^num([0-9]|add|sub|mult|div)$/.exec(key);
  if (numpad) {
    const name = { add: '+', sub: '-', mult: '*', div: '/' }[numpad[1] as string] ?? numpad[1];
    return platform === 'mac' ? `Keypad ${name as string}` : `Num ${name as string}`;
  }
  return (platform === 'mac' ? MAC_KEYS : PC_KEYS)[key] ?? (key.length === 1 ? key.toUpperCase() : key);
}

/**
 * How the OS writes a shortcut: `Ctrl+Alt+M` (Windows, Linux), `⌥⌘M` (macOS). `CommandOrControl` is Ctrl or ⌘;
 * Super is the Windows key on Windows.
 */
export function displayAccelerator(accelerator: string, platform: AcceleratorPlatform): string {
  if (accelerator === '') return '';
  const { modifiers, key } = parseAccelerator(accelerator);
  return display(modifiers, key, platform);
}

/** The modifiers held while recording, before the key: `Ctrl+Alt+…`, `⌥⌘…`. */
export function displayModifiers(modifiers: string, platform: AcceleratorPlatform): string {
  return display(modifiers.split('+').filter(Boolean), '', platform);
}

function display(modifiers: string[], key: string, platform: AcceleratorPlatform): string {
  const meanings = new Set(modifiers.map((m) => MODIFIER_MEANING[m]).filter((m): m is Shown => m !== undefined));
  const shownKey = key === '' ? '…' : displayKey(key, platform);
  if (platform === 'mac') return `${MAC_ORDER.filter((m) => meanings.has(m)).map((m) => MAC_SYMBOL[m]).join('')}${shownKey}`;
  const pcName: Record<Shown, string> = { command: 'Ctrl', control: 'Ctrl', alt: 'Alt', altgr: 'AltGr', shift: 'Shift', super: platform === 'windows' ? 'Win' : 'Super' };
  const names = [...new Set(PC_ORDER.filter((m) => meanings.has(m)).map((m) => pcName[m]))];
  return [...names, shownKey].join('+');
}

/** What a key press means to a hotkey field being recorded. */
export type CaptureStep =
  | { kind: 'cancel' }
  | { kind: 'clear' }
  /** Tab and Shift+Tab move the focus as everywhere else: a keyboard user must be able to leave the field. */
  | { kind: 'leave' }
  /** Only modifiers so far: show them and wait for the key. */
  | { kind: 'partial'; modifiers: string }
  | { kind: 'done'; accelerator: string }
  | { kind: 'ignore' };

/** Escape cancels, Backspace or Delete alone clears, anything else with a key Electron knows is recorded. */
export function captureStep(press: KeyPress, platform: AcceleratorPlatform): CaptureStep {
  const modifiers = heldModifiers(press, platform);
  const bare = modifiers.length === 0;
  if (press.code === 'Escape' && bare) return { kind: 'cancel' };
  if ((press.code === 'Backspace' || press.code === 'Delete') && bare) return { kind: 'clear' };
  if (press.code === 'Tab' && !press.ctrlKey && !press.altKey && !press.metaKey) return { kind: 'leave' };
  const accelerator = acceleratorFromKeyPress(press, platform);
  if (accelerator !== null) return { kind: 'done', accelerator };
  if (MODIFIER_CODES.test(press.code)) return { kind: 'partial', modifiers: modifiers.join('+') };
  return { kind: 'ignore' };
}
