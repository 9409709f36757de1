// `operator-companion status`: what the store holds and whether an instance is listening.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { callControl } from '../core/control/control-channel.ts';
import { DATABASE_FILE, openDatabase } from '../core/store/database.ts';
import { storeCounts, type StoreCounts } from '../core/store/session-store.ts';
import type { MicrophoneStatus } from '../core/microphone/microphone-sync.ts';
import type { CentralSyncStatus } from '../core/central/sync.ts';
import { parse, required } from './usage.ts';

export async function runStatus(args: string[]): Promise<number> {
  const values = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  const dataDir = path.resolve(required(values['data-dir'], '--data-dir'));
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
    const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
    lines.push(
      `store: ${store.calls} calls (${store.openCalls} open), ${store.events} events, ${store.operators} operators`,
      `calls from ${when(store.firstCallAt)} to ${when(store.lastCallAt)}`,
    );
  } else lines.push(`store: none yet (${DATABASE_FILE} does not exist)`);
  lines.push(
    running
      ? `running: yes (pid ${running.pid}), relay on 127.0.0.1:${running.port}, state ${running.view.state}, ${running.view.connectedFrames} tab(s) connected`
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
