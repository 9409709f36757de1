// A self-signed certificate made at test time, so the portal and the worker host run over HTTPS as in
// Bitrix24 (the worker's socket must come from a secure context).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Certificate {
  key: string;
  cert: string;
}

let cached: Certificate | undefined;

export function selfSignedCertificate(hosts: readonly string[]): Certificate {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-cert-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const san = [...hosts.map((h) => `DNS:${h}`), 'DNS:localhost', 'IP:127.0.0.1'].join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=operator-companion-emulator', '-addext', `subjectAltName=${san}`, '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'pipe' });
  cached = { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  return cached;
}
