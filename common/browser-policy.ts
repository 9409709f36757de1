// Browser policies that let a Bitrix24 portal's pages reach Operator Companion on 127.0.0.1 (Local Network
// Access, shared BITRIX24.md §7.2a: measured to work only with both policies, naming the portal's origin).
// Pure text generation, so the setup assistant can show exactly what it will save.

export const POLICY_PLATFORMS = ['windows', 'macos', 'linux'] as const;
export type PolicyPlatform = (typeof POLICY_PLATFORMS)[number];

export interface PolicyFile {
  fileName: string;
  /** Windows' regedit reads version-5 .reg files as UTF-16 little-endian with a byte-order mark. */
  encoding: 'utf8' | 'utf16le';
  content: string;
  /** Where IT puts it, in one sentence. */
  howToApply: string;
}

/** The portal's origin as a policy wants it, or null when the value is not an https origin. */
export function portalOriginOf(value: string): string | null {
  try {
    const url = new URL(value.includes('://') ? value : `https://${value}`);
    return url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

const BROWSERS = [
  { name: 'Google Chrome', registry: 'Google\\Chrome', domain: 'com.google.Chrome' },
  { name: 'Microsoft Edge', registry: 'Microsoft\\Edge', domain: 'com.microsoft.Edge' },
];

function windowsReg(origin: string): string {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  for (const browser of BROWSERS) {
    lines.push(`; ${browser.name}`);
    lines.push(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${browser.registry}]`);
    lines.push('"LocalNetworkAccessPermissionsPolicyDefaultEnabled"=dword:00000001', '');
    lines.push(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${browser.registry}\\LoopbackNetworkAllowedForUrls]`);
    lines.push(`"1"="${origin}"`, '');
  }
  return lines.join('\r\n');
}

/** A stable UUID derived from text (FNV-1a based), so regenerating the profile for one portal gives the same ids. */
function stableUuid(text: string): string {
  let hex = '';
  for (let round = 0; hex.length < 32; round += 1) {
    let hash = 0x811c9dc5 ^ round;
    for (let i = 0; i < text.length; i += 1) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hex += hash.toString(16).padStart(8, '0');
  }
  const h = hex.slice(0, 32).split('');
  h[12] = '5';
  h[16] = ((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`.toUpperCase();
}

const xml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function macosProfile(origin: string): string {
  const payloads = BROWSERS.map(
    (browser) => `    <dict>
      <key>PayloadType</key><string>${browser.domain}</string>
      <key>PayloadIdentifier</key><string>com.operatorcompanion.lna.${browser.domain}</string>
      <key>PayloadUUID</key><string>${stableUuid(`${origin}|${browser.domain}`)}</string>
      <key>PayloadVersion</key><integer>1</integer>
      <key>PayloadDisplayName</key><string>${browser.name}: allow ${xml(origin)} to reach Operator Companion</string>
      <key>LoopbackNetworkAllowedForUrls</key><array><string>${xml(origin)}</string></array>
      <key>LocalNetworkAccessPermissionsPolicyDefaultEnabled</key><true/>
    </dict>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadIdentifier</key><string>com.operatorcompanion.lna</string>
  <key>PayloadUUID</key><string>${stableUuid(origin)}</string>
  <key>PayloadVersion</key><integer>1</integer>
  <key>PayloadDisplayName</key><string>Operator Companion: Bitrix24 may reach the desktop app</string>
  <key>PayloadScope</key><string>System</string>
  <key>PayloadContent</key>
  <array>
${payloads.join('\n')}
  </array>
</dict>
</plist>
`;
}

function linuxJson(origin: string): string {
  return `${JSON.stringify({ LoopbackNetworkAllowedForUrls: [origin], LocalNetworkAccessPermissionsPolicyDefaultEnabled: true }, null, 2)}\n`;
}

export function browserPolicy(portalOrigin: string, platform: PolicyPlatform): PolicyFile {
  const origin = portalOriginOf(portalOrigin);
  if (!origin) throw new Error(`"${portalOrigin}" is not the https address of a Bitrix24 portal`);
  switch (platform) {
    case 'windows':
      return {
        fileName: 'operator-companion-browser-policy.reg',
        encoding: 'utf16le',
        content: windowsReg(origin),
        howToApply: 'Import on each PC as administrator (double-click, or reg import), or set the same values with Group Policy; restart the browser.',
      };
    case 'macos':
      return {
        fileName: 'operator-companion-browser-policy.mobileconfig',
        encoding: 'utf8',
        content: macosProfile(origin),
        howToApply: 'Deploy with your MDM, or open it and approve it in System Settings → Privacy & Security → Profiles; restart the browser.',
      };
    case 'linux':
      return {
        fileName: 'operator-companion-browser-policy.json',
        encoding: 'utf8',
        content: linuxJson(origin),
        howToApply: 'Copy into /etc/opt/chrome/policies/managed/ (Chrome), /etc/chromium/policies/managed/ (Chromium) or /etc/opt/edge/policies/managed/ (Edge) as root; restart the browser.',
      };
  }
}
