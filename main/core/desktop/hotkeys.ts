// Global hotkeys that admit failure: every registration is checked and its result kept, so the status window
// can say which accelerator is taken and the settings can rebind it. Registration goes through an injected
// registry (Electron's globalShortcut in the app, a fake in tests).
import type { HotkeyStatus } from '../../../common/ipc.ts';
import { HOTKEY_ACTIONS, type HotkeyAction, type Settings } from '../../../common/settings.ts';

/** The part of Electron's `globalShortcut` this needs. */
export interface ShortcutRegistry {
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export class HotkeyManager {
  private readonly registry: ShortcutRegistry;
  private readonly onAction: (action: HotkeyAction) => void;
  private registered: string[] = [];
  private statuses: HotkeyStatus[] = [];

  constructor(registry: ShortcutRegistry, onAction: (action: HotkeyAction) => void) {
    this.registry = registry;
    this.onAction = onAction;
  }

  get status(): HotkeyStatus[] {
    return this.statuses;
  }

  /** Registers the settings' hotkeys (none while paused); returns what worked and what did not. */
  apply(hotkeys: Settings['hotkeys'], paused: boolean): HotkeyStatus[] {
    this.clear();
    const seen = new Map<string, HotkeyAction>();
    this.statuses = HOTKEY_ACTIONS.filter((action) => hotkeys[action] !== '').map((action): HotkeyStatus => {
      const accelerator = hotkeys[action];
      if (paused) return { action, accelerator, registered: false, error: 'paused' };
      const twin = seen.get(accelerator.toLowerCase());
      if (twin) return { action, accelerator, registered: false, error: `also used for ${twin}` };
      seen.set(accelerator.toLowerCase(), action);
      let ok = false;
      let error = 'taken by another program or not allowed by the system';
      try {
        ok = this.registry.register(accelerator, () => this.onAction(action));
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      if (!ok) return { action, accelerator, registered: false, error };
      this.registered.push(accelerator);
      return { action, accelerator, registered: true };
    });
    return this.statuses;
  }

  clear(): void {
    for (const accelerator of this.registered) this.registry.unregister(accelerator);
    this.registered = [];
  }
}
