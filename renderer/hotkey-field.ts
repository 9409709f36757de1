// A hotkey field that records instead of being typed into: focus it and press the keys. It shows the shortcut as
// the OS writes it (`Ctrl+Alt+M`, `⌥⌘M`) and keeps Electron's syntax (`CommandOrControl+Alt+M`) as its value.
// Escape puts back what was there, Backspace or Delete leaves no hotkey, Tab moves on as everywhere else.
import { acceleratorPlatform, captureStep, displayAccelerator, displayModifiers } from '../common/accelerator.ts';

export interface HotkeyField {
  input: HTMLInputElement;
  /** The accelerator in Electron's syntax, '' for none. */
  value(): string;
}

export interface HotkeyFieldText {
  none: string;
  recording: string;
}

export const PLATFORM = acceleratorPlatform(navigator.platform);

export function showAccelerator(accelerator: string): string {
  return displayAccelerator(accelerator, PLATFORM);
}

/** `onRecording` hears when recording starts and stops (the app lets its global hotkeys go meanwhile). */
export function hotkeyField(id: string, initial: string, text: HotkeyFieldText, describedBy: string, onRecording: (recording: boolean) => void): HotkeyField {
  const input = document.createElement('input');
  input.id = id;
  input.autocomplete = 'off';
  input.spellcheck = false;
  input.className = 'hotkey';
  input.setAttribute('aria-describedby', describedBy);
  let value = initial;
  /** What was there when recording began, for Escape. */
  let before = initial;
  const show = (): void => {
    input.value = showAccelerator(value);
    input.dataset.accelerator = value;
  };
  show();
  input.placeholder = text.none;

  input.addEventListener('focus', () => {
    before = value;
    input.placeholder = text.recording;
    input.classList.add('recording');
    onRecording(true);
  });
  input.addEventListener('blur', () => {
    input.placeholder = text.none;
    input.classList.remove('recording');
    show();
    onRecording(false);
  });
  input.addEventListener('keydown', (event) => {
    const step = captureStep(event, PLATFORM);
    if (step.kind === 'leave') return;
    event.preventDefault();
    if (step.kind === 'cancel') value = before;
    else if (step.kind === 'clear') value = '';
    else if (step.kind === 'done') value = step.accelerator;
    else if (step.kind === 'partial') {
      input.value = displayModifiers(step.modifiers, PLATFORM);
      return;
    } else return;
    show();
  });
  // Letting go of modifiers without a key brings back the recorded shortcut.
  input.addEventListener('keyup', (event) => {
    if (!event.ctrlKey && !event.altKey && !event.shiftKey && !event.metaKey) show();
  });
  // Nothing reaches the field except through a key press: no typing, pasting, dropping or IME text.
  input.addEventListener('beforeinput', (event) => event.preventDefault());
  input.addEventListener('drop', (event) => event.preventDefault());
  return { input, value: () => value };
}
