// `operator-companion microphones`: the capture devices the app can mute, as the OS names them.
import { openMicrophonePort } from '../core/microphone/microphone.ts';
import { parse } from './usage.ts';

export async function runMicrophones(args: string[]): Promise<number> {
  const values = parse(args, { json: { type: 'boolean' } });
  const port = openMicrophonePort();
  try {
    const devices = await port.list();
    if (values.json) process.stdout.write(`${JSON.stringify({ backend: port.backend, devices })}\n`);
    else if (devices.length === 0) process.stdout.write('no microphones found\n');
    else for (const d of devices) process.stdout.write(`${d.isDefault ? '*' : ' '} ${d.name}${d.name === d.id ? '' : `  (${d.id})`}\n`);
    return 0;
  } finally {
    await port.close();
  }
}
