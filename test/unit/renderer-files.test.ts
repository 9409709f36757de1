// How the app:// handler serves the windows' files: only from the renderer folder, and a bad request gets a
// status instead of an exception escaping into Electron's protocol handler.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rendererFile } from '../../main/core/desktop/renderer-files.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();

describe('rendererFile', () => {
  function site(): string {
    const dir = path.join(tempDir(), 'renderer');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'index.html'), '<h1>hi</h1>');
    writeFileSync(path.join(dir, '..', 'secret.html'), 'no');
    return dir;
  }

  it('serves a page with the strict CSP', () => {
    const file = rendererFile(site(), '/index.html');
    expect(file.status).toBe(200);
    expect(file.headers['content-security-policy']).toContain("default-src 'none'");
    expect(file.body.toString()).toBe('<h1>hi</h1>');
  });

  it('answers 400 to a malformed percent-encoding instead of throwing', () => {
    expect(rendererFile(site(), '/index%.html').status).toBe(400);
    expect(rendererFile(site(), '/%E0%A4%A').status).toBe(400);
  });

  it('never leaves the folder, even when the escape is percent-encoded', () => {
    const dir = site();
    expect(rendererFile(dir, '/../secret.html').status).toBe(404);
    expect(rendererFile(dir, '/%2e%2e/secret.html').status).toBe(404);
    expect(rendererFile(dir, '/..%2fsecret.html').status).toBe(404);
  });
});
