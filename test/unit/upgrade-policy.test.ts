import { describe, expect, it } from 'vitest';
import { checkUpgrade, isLoopbackHost, normalizeOrigin } from '../../main/core/relay/upgrade-policy.ts';

const policy = { allowedOrigins: ['https://worker.test'], allowLoopbackOrigins: true };

describe('upgrade policy', () => {
  it.each(['127.0.0.1', '127.0.0.1:17345', 'localhost:1', 'LOCALHOST', '[::1]:17345'])('%s is a loopback Host', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['127.0.0.1.nip.io', 'evil.example', '10.0.0.1:17345', '', '127.0.0.2x', 'localhost.evil.example:80'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
  it('normalises origins the way browsers send them', () => {
    expect(normalizeOrigin('HTTPS://Worker.Test:443')).toBe('https://worker.test');
    expect(normalizeOrigin('https://worker.test/path')).toBeNull();
    expect(normalizeOrigin('null')).toBeNull();
    expect(normalizeOrigin('file:///x')).toBeNull();
  });
  it('accepts loopback development origins only when allowed', () => {
    expect(checkUpgrade({ origin: 'https://127.0.0.1:9443', host: 'localhost' }, policy)).toEqual({ ok: true, origin: 'https://127.0.0.1:9443' });
    expect(checkUpgrade({ origin: 'https://127.0.0.1:9443', host: 'localhost' }, { ...policy, allowLoopbackOrigins: false }).ok).toBe(false);
    expect(checkUpgrade({ origin: 'null', host: 'localhost' }, policy)).toEqual({ ok: false, reason: 'Origin "null" is not a web origin' });
  });
});
