// Things a test starts and must not leave running: `serve` processes, in-process cores, worker sockets.
// Each `use…` registers its own cleanup after every test of the file.
import { afterEach } from 'vitest';
import { Companion, type CompanionOptions } from '../../main/core/companion.ts';
import { exited, freePort, startServe, type ServeProcess } from './cli.ts';
import { TestWorker, type TestWorkerOptions } from './test-worker.ts';

export interface ServeProcesses {
  start(args: string[], nodeArgs?: string[], env?: NodeJS.ProcessEnv): Promise<ServeProcess>;
  /** Stops one gracefully (SIGTERM) before the test ends, e.g. to restart it. */
  stop(s: ServeProcess): Promise<void>;
}

export function useServeProcesses(): ServeProcesses {
  const running: ServeProcess[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      s.child.kill('SIGKILL');
      await exited(s.child);
    }
  });
  return {
    async start(args, nodeArgs, env) {
      const s = await startServe(args, nodeArgs, env);
      running.push(s);
      return s;
    },
    async stop(s) {
      s.child.kill('SIGTERM');
      await exited(s.child);
      running.splice(running.indexOf(s), 1);
    },
  };
}

export function useWorkers(): (options: TestWorkerOptions) => TestWorker {
  const workers: TestWorker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
  });
  return (options) => {
    const w = new TestWorker(options);
    workers.push(w);
    return w;
  };
}

export interface Companions {
  start(options: CompanionOptions): Promise<Companion>;
  /** Stops one before the test ends (a restart); the rest stop after the test. */
  stop(companion: Companion): Promise<void>;
}

export function useCompanions(): Companions {
  const running: Companion[] = [];
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
  });
  return {
    async start(options) {
      const companion = await Companion.start(options);
      running.push(companion);
      return companion;
    },
    async stop(companion) {
      running.splice(running.indexOf(companion), 1);
      await companion.stop();
    },
  };
}

export const TEST_ORIGIN = 'https://worker.test';

/**
 * An in-process core on a fresh data directory, auto-approving the test origin, and workers for it: what the
 * relay and call-state tests start in every test.
 */
export function useCore(tempDir: () => string): {
  startCompanion(overrides?: Partial<CompanionOptions>): Promise<Companion>;
  stopCompanion(companion: Companion): Promise<void>;
  worker(companion: Companion, options?: Partial<TestWorkerOptions>): TestWorker;
} {
  const companions = useCompanions();
  const workers = useWorkers();
  return {
    startCompanion: (overrides = {}) =>
      companions.start({ dataDir: overrides.dataDir ?? tempDir(), port: 0, allowedOrigins: [TEST_ORIGIN], autoApprove: true, ...overrides }),
    stopCompanion: (companion) => companions.stop(companion),
    worker: (companion, options = {}) => workers({ port: companion.port, origin: TEST_ORIGIN, ...options }),
  };
}

export interface ServeOptions {
  port?: number;
  /** Default true: the test origin is allowed and auto-approved. */
  autoApprove?: boolean;
  nodeArgs?: string[];
}

/** `operator-companion serve` on a data directory, allowing the test origin: what the process-level tests run. */
export function useServe(): { serve(dataDir: string, options?: ServeOptions): Promise<ServeProcess>; stop(s: ServeProcess): Promise<void> } {
  const processes = useServeProcesses();
  return {
    serve: async (dataDir, options = {}) =>
      processes.start(
        ['--data-dir', dataDir, '--port', String(options.port ?? (await freePort())), '--allow-origin', TEST_ORIGIN, ...(options.autoApprove === false ? [] : ['--auto-approve'])],
        options.nodeArgs,
      ),
    stop: (s) => processes.stop(s),
  };
}
