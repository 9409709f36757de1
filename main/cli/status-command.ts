// `operator-companion status`: what the store holds and whether an instance is listening.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { callControl } from '../core/control/control-channel.ts';
import { DATABASE_FILE, openDatabase } from '../core/store/database.ts';
import { storeCounts, type StoreCounts } from '../core/store/session-store.ts';
import type { MicrophoneStatus } from '../core/microphone/microphone-sync.ts';
import type { CentralSyncStatus } from '../core/central/sync.ts';
import { defaultDataDir } from '../core/paths.ts';
import { formatInstant, systemTimeZone } from '../core/export/time-zone.ts';
import { parse } from './usage.ts';

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export async function runStatus(args: string[]): Promise<number> {
  const values = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  // Like mute/unmute/…: without --data-dir, the desktop app's own folder.
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
  const file = path.join(dataDir, DATABASE_FILE);
  let store: StoreCounts | null = null;
  if (existsSync(file)) {
    const db = openDatabase(file, { readonly: true });
    try {
      store = storeCounts(db);
    } finally {
      db.close();
    }
  }
  const reply = await callControl(dataDir, 'GET', '/v1/status', undefined, 3_000);
  const running = reply.reachable && reply.status === 200 ? (reply.body as { pid: number; port: number; view: { state: string; connectedFrames: number }; microphone?: MicrophoneStatus | null }) : null;
  const microphone = running?.microphone ?? null;
  const central = (running as { central?: CentralSyncStatus } | null)?.central ?? null;

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ dataDir, store, running, microphone, ...(central ? { central } : {}) })}\n`);
    return 0;
  }
  const lines = [`data directory: ${dataDir}`];
  if (store) {
    // In the computer's zone, as the export writes them by default.
    const zone = systemTimeZone();
    lines.push(`store: ${count(store.calls, 'call', 'calls')} (${store.openCalls} open), ${count(store.events, 'event', 'events')}, ${count(store.operators, 'operator', 'operators')}`);
    lines.push(store.firstCallAt === null || store.lastCallAt === null ? 'no calls yet' : `calls from ${formatInstant(store.firstCallAt, zone)} to ${formatInstant(store.lastCallAt, zone)}`);
  } else lines.push(`store: none yet (${DATABASE_FILE} does not exist)`);
  lines.push(
    running
      ? `running: yes (pid ${running.pid}), relay on 127.0.0.1:${running.port}, state ${running.view.state}, ${count(running.view.connectedFrames, 'tab', 'tabs')} connected`
      : 'running: no instance is listening on this data directory',
  );
  if (running) {
    const mic = microphone;
    lines.push(
      !mic
        ? 'microphone: not controlled (the card is mirrored only)'
        : mic.error
          ? `microphone: ${mic.error}`
          : `microphone: ${mic.device} ${mic.muted ? 'MUTED' : 'live'}${mic.controlledByApp ? ' (muted by the app)' : ''}`,
    );
  }
  if (central) {
    const when = central.lastSyncAt === null ? 'never' : new Date(central.lastSyncAt).toISOString();
    lines.push(`central: ${central.target}, last sync ${when}, ${central.rowsWaiting} rows waiting${central.lastError ? `; ${central.running ? 'failing' : 'stopped'}: ${central.lastError}` : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
