// A bounded soak: several tabs doing realistic calls against a real `serve` for SOAK_SECONDS (15 s in CI,
// 20 minutes in the long run), sampling the server's resident memory and open file descriptors from /proc.
// Both must stay flat: no leak per call, per connection or per event. The server runs with a small JavaScript
// heap (64 MB): V8 otherwise lets garbage pile up before collecting, which looks like growth but is not; with
// the cap a real leak ends in an out-of-memory crash, and the memory figures mean something.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_ORIGIN as ORIGIN, useServe } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { TestWorker } from '../helpers/test-worker.ts';
import { SOAK_SECONDS } from './sizes.ts';

const TABS = 6;
const tempDir = useTempDirs();
const { serve } = useServe();

function sample(pid: number): { rssKb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0), fds: readdirSync(`/proc/${pid}/fd`).length };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('soak', () => {
  it.skipIf(process.platform !== 'linux')(`${TABS} tabs making calls for ${SOAK_SECONDS} s: memory and file descriptors stay flat`, async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir, { nodeArgs: ['--max-old-space-size=64'] });
    const pid = s.child.pid as number;
    await sleep(500);
    const baseline = sample(pid);
    const samples: Array<{ at: number; rssKb: number; fds: number }> = [];
    const started = Date.now();
    let calls = 0;
    let token: string | undefined;

    const tab = async (index: number): Promise<void> => {
      let round = 0;
      while (Date.now() - started < SOAK_SECONDS * 1000) {
        // Every few calls the tab reloads: a new frame, a new connection.
        const w = new TestWorker({ port: s.port, origin: ORIGIN, appSid: `tab-${index}-${round}`, ...(token ? { pairingToken: token } : {}) });
        await w.connect();
        token ??= w.pairingToken;
        for (let call = 0; call < 5 && Date.now() - started < SOAK_SECONDS * 1000; call += 1) {
          await w.emitAndWait('initialized', { CALL_ID: `soak-${index}-${round}-${call}`, PHONE_NUMBER: '+74951234567' });
          for (let i = 0; i < 6; i += 1) await w.emitAndWait('muteButtonClick', i % 2 === 0);
          await w.emitAndWait('holdButtonClick', true);
          await w.emitAndWait('holdButtonClick', false);
          await w.emitAndWait('hangupButtonClick', []);
          calls += 1;
          await sleep(20);
        }
        await w.disconnect();
        round += 1;
      }
    };
    const sampler = setInterval(() => samples.push({ at: Date.now() - started, ...sample(pid) }), 1_000);
    await Promise.all(Array.from({ length: TABS }, (_, i) => tab(i)));
    clearInterval(sampler);
    await sleep(1_000);
    const after = sample(pid);

    const third = samples[Math.floor(samples.length / 3)] ?? samples[0]!;
    const peak = Math.max(...samples.map((x) => x.rssKb));
    const lines = [
      `soak: ${SOAK_SECONDS} s, ${TABS} tabs, ${calls} calls`,
      `  RSS ${Math.round(baseline.rssKb / 1024)} MB at start, ${Math.round(third.rssKb / 1024)} MB after a third, peak ${Math.round(peak / 1024)} MB, ${Math.round(after.rssKb / 1024)} MB at the end`,
      `  file descriptors ${baseline.fds} at start, up to ${Math.max(...samples.map((x) => x.fds))} during, ${after.fds} at the end`,
    ];
    console.log(lines.join('\n'));
    expect(calls).toBeGreaterThan(TABS);
    expect(s.child.exitCode).toBeNull();
    // Sockets are released: back to the baseline once the tabs are gone.
    expect(after.fds).toBeLessThanOrEqual(baseline.fds + 2);
    // Memory settles after warm-up: what the second two thirds add stays small.
    expect(peak - third.rssKb).toBeLessThan(40 * 1024);
  }, (SOAK_SECONDS + 60) * 1000);
});
