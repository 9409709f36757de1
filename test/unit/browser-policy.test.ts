import { describe, expect, it } from 'vitest';
import { browserPolicy, portalOriginOf } from '../../common/browser-policy.ts';

const PORTAL = 'https://acme.bitrix24.com';

describe('browser policies for Local Network Access', () => {
  it('takes the portal as an origin, a URL or a bare host, and refuses plain http', () => {
    expect(portalOriginOf('acme.bitrix24.com')).toBe(PORTAL);
    expect(portalOriginOf('https://acme.bitrix24.com/crm/deal/')).toBe(PORTAL);
    expect(portalOriginOf('http://acme.bitrix24.com')).toBeNull();
    expect(() => browserPolicy('http://acme.bitrix24.com', 'linux')).toThrow(/not the https address/);
  });

  it('Linux: the two policies as managed JSON', () => {
    const file = browserPolicy(`${PORTAL}/stream/`, 'linux');
    expect(JSON.parse(file.content)).toEqual({ LoopbackNetworkAllowedForUrls: [PORTAL], LocalNetworkAccessPermissionsPolicyDefaultEnabled: true });
    expect(file.fileName).toMatch(/\.json$/);
  });

  it('Windows: a .reg for Chrome and Edge, with CRLF lines', () => {
    const file = browserPolicy(PORTAL, 'windows');
    expect(file.encoding).toBe('utf16le');
    expect(file.content.startsWith('Windows Registry Editor Version 5.00\r\n')).toBe(true);
    for (const key of ['Google\\Chrome', 'Microsoft\\Edge']) {
      expect(file.content).toContain(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${key}]\r\n"LocalNetworkAccessPermissionsPolicyDefaultEnabled"=dword:00000001`);
      expect(file.content).toContain(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${key}\\LoopbackNetworkAllowedForUrls]\r\n"1"="${PORTAL}"`);
    }
  });

  it('macOS: a configuration profile with a payload per browser and stable UUIDs', () => {
    const first = browserPolicy(PORTAL, 'macos');
    expect(first.content).toContain('<key>PayloadType</key><string>com.google.Chrome</string>');
    expect(first.content).toContain('<key>PayloadType</key><string>com.microsoft.Edge</string>');
    expect(first.content.match(/<string>https:\/\/acme\.bitrix24\.com<\/string>/g)).toHaveLength(2);
    const uuids = [...first.content.matchAll(/<key>PayloadUUID<\/key><string>([0-9A-F-]{36})<\/string>/g)].map((m) => m[1]);
    expect(new Set(uuids).size).toBe(3);
    expect(browserPolicy(PORTAL, 'macos').content).toBe(first.content);
    expect(browserPolicy('https://other.bitrix24.com', 'macos').content).not.toContain(uuids[0]);
  });
});
