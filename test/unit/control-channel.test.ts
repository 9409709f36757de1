import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callControl, readControlFile, startControlServer, type ControlServer } from '../../main/core/control/control-channel.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const servers: ControlServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function raw(port: number, headers: Record<string, string>, method = 'GET', path = '/v1/status'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('control channel', () => {
  it('answers the holder of the secret and nobody else', async () => {
    const dir = tempDir();
    const actions: string[] = [];
    const server = await startControlServer(dir, 17345, {
      status: () => ({ state: 'live' }),
      action: async (name) => (actions.push(name), { status: 200, body: { ok: true } }),
    });
    servers.push(server);
    expect(await callControl(dir, 'GET', '/v1/status')).toEqual({ reachable: true, status: 200, body: { state: 'live' } });
    expect(await callControl(dir, 'POST', '/v1/action', { action: 'mute' })).toMatchObject({ status: 200 });
    expect(actions).toEqual(['mute']);
    expect(await callControl(dir, 'POST', '/v1/action', 'not json')).toMatchObject({ status: 400 });

    const secret = readControlFile(dir)?.secret as string;
    expect(await raw(server.port, {})).toBe(401);
    expect(await raw(server.port, { authorization: 'Bearer wrong' })).toBe(401);
    expect(await raw(server.port, { authorization: `Bearer ${secret}`, origin: 'https://evil.example' })).toBe(403);
    expect(await raw(server.port, { authorization: `Bearer ${secret}`, host: 'evil.example' })).toBe(403);
    expect(await raw(server.port, { authorization: `Bearer ${secret}` }, 'DELETE', '/v1/everything')).toBe(404);
    expect(actions).toEqual(['mute']);
  });

  it('removes its file when it stops', async () => {
    const dir = tempDir();
    const server = await startControlServer(dir, 1, { status: () => ({}), action: async () => ({ status: 200, body: {} }) });
    expect(readControlFile(dir)).not.toBeNull();
    await server.close();
    expect(readControlFile(dir)).toBeNull();
    expect(await callControl(dir, 'GET', '/v1/status')).toMatchObject({ reachable: false, reason: expect.stringMatching(/no running instance/) });
  });

  it('treats a damaged or hand-edited control file as no running instance', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    const good = { port: 40000, secret: 'x'.repeat(43), pid: 123, relayPort: 17345, startedAt: 1 };
    for (const bad of ['{', JSON.stringify({ ...good, secret: 'short' }), JSON.stringify({ ...good, port: -1 }), JSON.stringify({ ...good, pid: 1.5 }), 'null']) {
      writeFileSync(path.join(dir, 'control.json'), bad);
      expect(readControlFile(dir)).toBeNull();
    }
    writeFileSync(path.join(dir, 'control.json'), JSON.stringify({ ...good, extra: true }));
    expect(readControlFile(dir)).toEqual(good);
    await expect(callControl(dir, 'POST', '/v1/action', { action: 'x'.repeat(33) })).resolves.toMatchObject({ reachable: false });
  });
});
