// `operator-companion serve`: the core without Electron, for servers, kiosks, tests and benchmarks.
import path from 'node:path';
import { AlreadyRunningError, startInstance } from '../core/instance.ts';
import { stderrLogging } from '../core/logging/logger.ts';
import { deviceChoice, openMicrophonePort } from '../core/microphone/microphone.ts';
import { MicrophoneError } from '../core/microphone/microphone-port.ts';
import { END_OF_CALL_RULES } from '../core/microphone/microphone-sync.ts';
import { PortsTakenError } from '../core/relay/relay-server.ts';
import { normalizeOrigin } from '../core/relay/upgrade-policy.ts';
import { DEFAULT_PORT } from '../../common/protocol-constants.ts';
import { centralConfig } from './central-command.ts';
import { oneOf, parse, port, required, UsageError } from './usage.ts';

export async function runServe(args: string[]): Promise<number> {
  const values = parse(args, {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    'auto-approve': { type: 'boolean' },
    microphone: { type: 'string' },
    'end-of-call': { type: 'string' },
    central: { type: 'string' },
  });
  const dataDir = path.resolve(required(values['data-dir'], '--data-dir'));
  const origins = (values['allow-origin'] ?? []).map((origin) => {
    const normalized = normalizeOrigin(origin);
    if (!normalized || normalized !== origin.replace(/\/$/, '')) {
      throw new UsageError(`--allow-origin must be an origin like https://companion.example.com (got "${origin}")`);
    }
    // Bitrix24 shows application pages over HTTPS only; an http:// worker host would never be embedded.
    if (!normalized.startsWith('https://')) throw new UsageError(`--allow-origin must be an https:// origin: Bitrix24 embeds application pages over HTTPS only (got "${origin}")`);
    return normalized;
  });
  if (values['auto-approve'] && origins.length === 0) {
    throw new UsageError('--auto-approve needs at least one --allow-origin: it trusts only those origins');
  }
  if (values.microphone === '') throw new UsageError('--microphone must be default, off or a device name (`operator-companion microphones` lists them)');
  const choice = deviceChoice(values.microphone ?? 'off');
  const endOfCall = oneOf(values['end-of-call'] ?? 'app', END_OF_CALL_RULES, '--end-of-call');
  // The desktop app's log lines, redacted the same way, on stderr.
  const logging = stderrLogging();
  const log = logging.logger('Serve');
  let instance;
  try {
    instance = await startInstance({
      dataDir,
      ...(values.port === undefined ? {} : { port: port(values.port, '--port') }),
      allowedOrigins: origins,
      autoApprove: values['auto-approve'] ?? false,
      log: logging.core,
      ...(choice ? { microphone: { port: openMicrophonePort(), choice, endOfCall } } : {}),
      ...(values.central === undefined ? {} : { central: centralConfig(values.central, '--central') }),
    });
  } catch (error) {
    if (error instanceof AlreadyRunningError || error instanceof PortsTakenError || error instanceof MicrophoneError) {
      process.stderr.write(`operator-companion: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const requestedPort = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (instance.companion.port !== requestedPort) {
    log.warn('portInUse', { requested: requestedPort, port: instance.companion.port, message: `port ${requestedPort} is taken by another program; listening on ${instance.companion.port} (the worker finds it by itself)` });
  }
  if (origins.length === 0) {
    log.warn('noWorkerOrigin', { message: 'no --allow-origin: no Bitrix24 worker page can connect; add --allow-origin https://YOUR-WORKER-HOST' });
  }
  instance.companion.state.onChange((view) => log.info('state', { state: view.state, call: view.call?.callId ?? null }));
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: instance.companion.port })}\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await instance.stop();
  log.info('stopped');
  return 0;
}
