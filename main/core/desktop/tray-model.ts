// What the tray shows, as plain data: one render of the status picks the image, the tooltip and the menu.
// The Electron adapter only turns this into a Tray; tests read it directly.
import { formatDuration, translate, type Language } from '../../../common/i18n.ts';
import type { StatusView } from '../../../common/ipc.ts';
import type { OperatorState } from '../../../common/protocol-constants.ts';

export type TrayIcon = OperatorState | 'problem';

export type TrayCommand =
  | 'toggleMute' | 'hold' | 'unhold' | 'openStatus' | 'openLog' | 'openSettings' | 'openAssistant' | 'openPairing'
  | 'toggleHotkeysPaused' | 'saveDiagnostics' | 'quit';

export interface TrayMenuItem {
  id: TrayCommand | 'state' | 'separator';
  label: string;
  enabled: boolean;
  accelerator?: string;
  checked?: boolean;
}

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  menu: TrayMenuItem[];
}

const separator: TrayMenuItem = { id: 'separator', label: '', enabled: true };

export function trayIcon(status: StatusView): TrayIcon {
  // Card and microphone say different things and the app could not bring them together: neither is to be trusted.
  if (status.call && status.microphone?.disagreesWithCard) return 'problem';
  // A call in progress outranks other problems: the operator must always see that they are muted.
  if (status.problem && (status.state === 'not_connected' || status.state === 'waiting')) return 'problem';
  return status.state;
}

export function trayModel(status: StatusView, language: Language): TrayModel {
  const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>): string => translate(language, key, params);
  const icon = trayIcon(status);
  const call = status.call;
  const parts = [`Operator Companion: ${t(icon === 'problem' ? 'state.problem' : `state.${status.state}`)}`];
  if (call?.phoneNumber) parts.push(call.phoneNumber);
  if (call?.muted && call.mutedSince !== null) parts.push(t('tray.mutedFor', { duration: formatDuration(status.now - call.mutedSince) }));
  if (status.microphone?.muted && status.microphone.device) parts.push(t('tray.micMuted', { device: status.microphone.device }));
  if (call?.held && call.heldSince !== null) parts.push(t('tray.onHoldFor', { duration: formatDuration(status.now - call.heldSince) }));
  if (icon === 'problem') {
    const reason = status.problems.find((p) => p.kind === 'microphone_disagrees') ?? status.problems[0];
    if (reason) parts.push(reason.detail);
  }

  const toggleAccelerator = status.hotkeys.find((h) => h.action === 'toggleMute' && h.registered)?.accelerator;
  const holdAccelerator = status.hotkeys.find((h) => h.action === 'hold' && h.registered)?.accelerator;
  const menu: TrayMenuItem[] = [
    { id: 'state', label: parts.slice(0, 2).join(' · ').replace(/^Operator Companion: /, ''), enabled: false },
    separator,
    {
      id: 'toggleMute',
      label: t(call?.muted ? 'menu.unmute' : 'menu.mute'),
      enabled: call !== null,
      ...(toggleAccelerator ? { accelerator: toggleAccelerator } : {}),
    },
    {
      id: call?.held ? 'unhold' : 'hold',
      label: t(call?.held ? 'menu.resume' : 'menu.hold'),
      enabled: call !== null,
      ...(holdAccelerator ? { accelerator: holdAccelerator } : {}),
    },
    separator,
  ];
  if (status.pendingPairings > 0) menu.push({ id: 'openPairing', label: t('menu.pairing', { count: status.pendingPairings }), enabled: true });
  menu.push(
    { id: 'openStatus', label: t('menu.status'), enabled: true },
    { id: 'openLog', label: t('menu.log'), enabled: true },
    { id: 'openSettings', label: t('menu.settings'), enabled: true },
    { id: 'openAssistant', label: t('menu.assistant'), enabled: true },
    { id: 'toggleHotkeysPaused', label: t('menu.pauseHotkeys'), enabled: true, checked: status.hotkeysPaused },
    separator,
    { id: 'saveDiagnostics', label: t('menu.diagnostics'), enabled: true },
    { id: 'quit', label: t('menu.quit'), enabled: true },
  );
  return { icon, tooltip: parts.join(' · '), menu };
}
