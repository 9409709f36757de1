// One running instance on a data directory: the core plus its control channel. `serve` and the desktop app
// both start exactly this, so `operator-companion mute` drives either the same way.
import { mkdirSync } from 'node:fs';
import { CARD_ACTIONS, type CardAction, type CommandResponse } from './calls/call-state.ts';
import { CentralSync } from './central/sync.ts';
import type { CentralConfig } from './central/connection.ts';
import { APP_VERSION, Companion, type CompanionOptions } from './companion.ts';
import { callControl, startControlServer, type ControlServer } from './control/control-channel.ts';

export class AlreadyRunningError extends Error {
  constructor(dataDir: string, pid: unknown) {
    super(`another Operator Companion (pid ${String(pid)}) is already running on ${dataDir}; stop it first or use another --data-dir`);
    this.name = 'AlreadyRunningError';
  }
}

export interface Instance {
  companion: Companion;
  control: ControlServer;
  /** Present when syncing to a central PostgreSQL. */
  readonly central: CentralSync | null;
  /** Stops the sync in progress (after its batch in flight) and starts one to `config`; null = no sync. */
  setCentral(config: CentralConfig | null): Promise<void>;
  stop(): Promise<void>;
}

const HTTP_STATUS: Record<CommandResponse['outcome'], number> = {
  ok: 200,
  no_call: 409,
  not_connected: 409,
  card_refused: 502,
  no_answer: 504,
  timed_out: 504,
};

export interface InstanceOptions extends CompanionOptions {
  /** Sync the log to this central PostgreSQL (docs/central.md). */
  central?: CentralConfig;
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const existing = await callControl(options.dataDir, 'GET', '/v1/status', undefined, 2_000);
  if (existing.reachable && existing.status === 200) {
    throw new AlreadyRunningError(options.dataDir, (existing.body as { pid?: unknown } | undefined)?.pid);
  }
  const companion = await Companion.start(options);
  const newSync = (config: CentralConfig): CentralSync =>
    new CentralSync({ db: companion.store.db, config, appVersion: APP_VERSION, ...(options.log ? { log: options.log } : {}) });
  let central = options.central ? newSync(options.central) : null;
  let changing = Promise.resolve();
  let control: ControlServer;
  try {
    control = await startControlServer(options.dataDir, companion.port, {
      status: () => ({ pid: process.pid, ...companion.status(), ...(central ? { central: central.status() } : {}) }),
      action: async (name) => {
        if (!(CARD_ACTIONS as readonly string[]).includes(name)) {
          return { status: 400, body: { ok: false, outcome: 'unknown_action', message: `unknown action "${name}"; use ${CARD_ACTIONS.join(', ')}` } };
        }
        const response = await companion.command(name as CardAction, 'cli');
        return { status: HTTP_STATUS[response.outcome], body: response };
      },
    });
  } catch (error) {
    await companion.stop();
    throw error;
  }
  central?.start();
  return {
    companion,
    control,
    get central() {
      return central;
    },
    // One change at a time: two quick settings saves must not leave two syncs running.
    setCentral: (config) =>
      (changing = changing.then(async () => {
        const previous = central;
        central = null;
        await previous?.stop();
        central = config ? newSync(config) : null;
        central?.start();
      })),
    stop: async () => {
      await control.close();
      await changing;
      await central?.stop();
      await companion.stop();
    },
  };
}
