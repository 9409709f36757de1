// `npm run simulate`: a demo and training set-up without Bitrix24. It serves the emulated portal (a page with a
// working call card) and the real built worker over HTTPS, and runs the app headless on a data directory, so
// an operator can click the card and see the app follow, and try `npx operator-companion mute` from a terminal.
import path from 'node:path';
import { startEmulator } from '../test/emulator/portal-server.ts';
import { startInstance } from '../main/core/instance.ts';

const dataDir = path.resolve(process.argv[2] ?? path.join('.tmp', 'simulate'));
// Two different sites on this computer, as Bitrix24 and the worker host are: localhost and 127.0.0.1.
/** Another simulation (or any program) holding a port, or this data directory in use: one line, not a stack trace. */
function giveUp(error: unknown): never {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = code === 'EADDRINUSE'
    ? 'ports 8443 and 8444 are needed for the emulated portal and one is taken (is another `npm run simulate` running? stop it first)'
    : error instanceof Error ? error.message : String(error);
  console.error(`simulate: ${message}`);
  process.exit(1);
}

const emulator = await startEmulator({ portalHost: 'localhost', workerHost: '127.0.0.1', portalPort: 8443, workerPort: 8444 }).catch(giveUp);
const instance = await startInstance({ dataDir, allowedOrigins: [emulator.workerOrigin], autoApprove: true }).catch(async (error: unknown) => {
  await emulator.close();
  return giveUp(error);
});
instance.companion.state.onChange((view) => {
  const call = view.call ? ` call ${view.call.callId}${view.call.phoneNumber ? ` (${view.call.phoneNumber})` : ''}` : '';
  console.log(`${new Date().toLocaleTimeString()}  app state: ${view.state}${call}, ${view.connectedFrames} tab(s)`);
});

console.log(`
Operator Companion simulation
  data directory   ${dataDir}
  app (relay)      ws://127.0.0.1:${instance.companion.port}

1. The certificates are self-signed. In the browser, open ${emulator.workerOrigin}/index.html once and accept the
   warning (the worker frame cannot show it), then open:

   ${emulator.portalUrl({ relayPort: instance.companion.port, sid: 'DEMO' })}

   Or start a throw-away Chromium that skips the warnings:
   chromium --user-data-dir=$(mktemp -d) --ignore-certificate-errors '${emulator.portalUrl({ relayPort: instance.companion.port, sid: 'DEMO' })}'

2. In the browser console of that page: emulator.raiseCard({ callId: 'demo-1', phoneNumber: '+74951234567' })
   (or click "Simulate an incoming call"), then click Mute, Hold, Hang up on the card, or run: npx operator-companion toggle --data-dir ${dataDir}
3. Export what happened: npx operator-companion export --data-dir ${dataDir} --format csv --out calls.csv

Ctrl+C stops.`);

const stop = async (): Promise<void> => {
  await instance.stop();
  await emulator.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
