// Recording a hotkey from key presses and showing it the way each OS writes shortcuts.
import { describe, expect, it } from 'vitest';
import {
  acceleratorFromKeyPress,
  acceleratorPlatform,
  captureStep,
  displayAccelerator,
  displayModifiers,
  parseAccelerator,
  type KeyPress,
} from '../../common/accelerator.ts';
import { acceleratorProblem } from '../../common/settings.ts';

const press = (code: string, mods: Partial<Omit<KeyPress, 'code' | 'key'>> = {}, key = ''): KeyPress => ({
  code,
  key,
  ctrlKey: false,
  altKey: false,
  shiftKey: false,
  metaKey: false,
  ...mods,
});

describe('platform', () => {
  it('reads navigator.platform and process.platform', () => {
    expect(['MacIntel', 'darwin', 'Win32', 'win32', 'Linux x86_64', 'linux', ''].map(acceleratorPlatform)).toEqual(['mac', 'mac', 'windows', 'windows', 'linux', 'linux', 'linux']);
  });
});

describe('recording a key press', () => {
  it('stores Ctrl on Windows/Linux and ⌘ on macOS as CommandOrControl', () => {
    expect(acceleratorFromKeyPress(press('KeyK', { ctrlKey: true, altKey: true }), 'linux')).toBe('CommandOrControl+Alt+K');
    expect(acceleratorFromKeyPress(press('KeyK', { ctrlKey: true, altKey: true }), 'windows')).toBe('CommandOrControl+Alt+K');
    expect(acceleratorFromKeyPress(press('KeyK', { metaKey: true, altKey: true }), 'mac')).toBe('CommandOrControl+Alt+K');
    // Control on a Mac is its own key; the Windows key elsewhere is Super.
    expect(acceleratorFromKeyPress(press('KeyK', { ctrlKey: true, shiftKey: true }), 'mac')).toBe('Control+Shift+K');
    expect(acceleratorFromKeyPress(press('KeyK', { metaKey: true, shiftKey: true }), 'linux')).toBe('Shift+Super+K');
  });

  it('uses the physical key, so a Russian layout records the same letter', () => {
    expect(acceleratorFromKeyPress(press('KeyK', { ctrlKey: true, altKey: true }, 'л'), 'windows')).toBe('CommandOrControl+Alt+K');
  });

  it('names digits, function keys, the keypad, arrows and punctuation as Electron does', () => {
    const cases: Array<[string, string]> = [
      ['Digit7', '7'], ['F8', 'F8'], ['F24', 'F24'], ['Numpad5', 'num5'], ['NumpadAdd', 'numadd'], ['ArrowUp', 'Up'], ['PageDown', 'PageDown'],
      ['Space', 'Space'], ['Minus', '-'], ['Slash', '/'], ['Backquote', '`'], ['NumpadEnter', 'Enter'],
    ];
    for (const [code, key] of cases) {
      const accelerator = acceleratorFromKeyPress(press(code, { ctrlKey: true, shiftKey: true }), 'linux');
      expect(accelerator).toBe(`CommandOrControl+Shift+${key}`);
      // Whatever is recorded, the settings schema accepts.
      expect(acceleratorProblem(accelerator as string)).toBeNull();
    }
  });

  it('waits while only modifiers are held, and ignores keys Electron has no name for', () => {
    expect(acceleratorFromKeyPress(press('ControlLeft', { ctrlKey: true }), 'linux')).toBeNull();
    expect(captureStep(press('AltLeft', { ctrlKey: true, altKey: true }), 'linux')).toEqual({ kind: 'partial', modifiers: 'CommandOrControl+Alt' });
    expect(captureStep(press('IntlBackslash', { ctrlKey: true }), 'linux')).toEqual({ kind: 'ignore' });
  });

  it('Escape cancels, Backspace and Delete clear, Tab leaves, with modifiers they are keys', () => {
    expect(captureStep(press('Escape'), 'linux')).toEqual({ kind: 'cancel' });
    expect(captureStep(press('Backspace'), 'mac')).toEqual({ kind: 'clear' });
    expect(captureStep(press('Delete'), 'windows')).toEqual({ kind: 'clear' });
    expect(captureStep(press('Tab'), 'linux')).toEqual({ kind: 'leave' });
    expect(captureStep(press('Tab', { shiftKey: true }), 'linux')).toEqual({ kind: 'leave' });
    expect(captureStep(press('Backspace', { ctrlKey: true, altKey: true }), 'linux')).toEqual({ kind: 'done', accelerator: 'CommandOrControl+Alt+Backspace' });
    expect(captureStep(press('Escape', { ctrlKey: true }), 'windows')).toEqual({ kind: 'done', accelerator: 'CommandOrControl+Escape' });
    // A bare letter is recorded too: the settings then say why a global hotkey needs a modifier.
    expect(captureStep(press('KeyM'), 'linux')).toEqual({ kind: 'done', accelerator: 'M' });
  });
});

describe('showing an accelerator', () => {
  it('writes it as Windows and Linux do', () => {
    expect(displayAccelerator('CommandOrControl+Alt+M', 'windows')).toBe('Ctrl+Alt+M');
    expect(displayAccelerator('CmdOrCtrl+Shift+F8', 'linux')).toBe('Ctrl+Shift+F8');
    expect(displayAccelerator('Shift+Alt+Super+k', 'windows')).toBe('Alt+Shift+Win+K');
    expect(displayAccelerator('Super+Return', 'linux')).toBe('Super+Enter');
    expect(displayAccelerator('Control+numadd', 'windows')).toBe('Ctrl+Num +');
    expect(displayAccelerator('Alt+Plus', 'linux')).toBe('Alt++');
    expect(displayAccelerator('F13', 'linux')).toBe('F13');
  });

  it('writes it as macOS does: symbols in the order ⌃⌥⇧⌘, no separators', () => {
    expect(displayAccelerator('CommandOrControl+Alt+M', 'mac')).toBe('⌥⌘M');
    expect(displayAccelerator('Command+Shift+Control+Up', 'mac')).toBe('⌃⇧⌘↑');
    expect(displayAccelerator('Option+Backspace', 'mac')).toBe('⌥⌫');
  });

  it('shows modifiers held so far', () => {
    expect(displayModifiers('CommandOrControl+Alt', 'linux')).toBe('Ctrl+Alt+…');
    expect(displayModifiers('CommandOrControl+Alt', 'mac')).toBe('⌥⌘…');
  });

  it('parses the + key', () => {
    expect(parseAccelerator('Alt++')).toEqual({ modifiers: ['Alt'], key: '+' });
    expect(parseAccelerator('CommandOrControl+Alt+M')).toEqual({ modifiers: ['CommandOrControl', 'Alt'], key: 'M' });
    expect(parseAccelerator('')).toEqual({ modifiers: [], key: '' });
    expect(displayAccelerator('', 'linux')).toBe('');
  });
});
