// Renders the tray model into Electron's Tray. Electron objects are injected (typed against electron.d.ts),
// so this adapter runs in tests with fakes, driven by the real core.
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { TrayCommand, TrayIcon, TrayModel } from '../core/desktop/tray-model.ts';

export interface TrayDeps {
  tray: Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu'>;
  buildMenu: (template: MenuItemConstructorOptions[]) => Menu;
  image: (icon: TrayIcon) => NativeImage;
  onCommand: (command: TrayCommand) => void;
}

export class TrayAdapter {
  private readonly deps: TrayDeps;
  private lastIcon: TrayIcon | null = null;
  private lastTooltip = '';
  private lastMenu = '';

  constructor(deps: TrayDeps) {
    this.deps = deps;
  }

  /** Applies only what changed: the menu is rebuilt when its items change, not every second. */
  render(model: TrayModel): void {
    if (model.icon !== this.lastIcon) {
      this.deps.tray.setImage(this.deps.image(model.icon));
      this.lastIcon = model.icon;
    }
    if (model.tooltip !== this.lastTooltip) {
      this.deps.tray.setToolTip(model.tooltip);
      this.lastTooltip = model.tooltip;
    }
    const menuKey = JSON.stringify(model.menu);
    if (menuKey !== this.lastMenu) {
      this.lastMenu = menuKey;
      this.deps.tray.setContextMenu(this.deps.buildMenu(model.menu.map((item) => this.menuItem(item))));
    }
  }

  private menuItem(item: TrayModel['menu'][number]): MenuItemConstructorOptions {
    if (item.id === 'separator') return { type: 'separator' };
    if (item.id === 'state') return { label: item.label, enabled: false };
    const command = item.id;
    return {
      label: item.label,
      enabled: item.enabled,
      ...(item.accelerator ? { accelerator: item.accelerator, registerAccelerator: false } : {}),
      ...(item.checked === undefined ? {} : { type: 'checkbox' as const, checked: item.checked }),
      click: () => this.deps.onCommand(command),
    };
  }
}
