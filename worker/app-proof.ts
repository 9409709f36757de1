// The worker's side of "Proving the app" (docs/protocol.md): before a paired worker says anything about itself
// on a socket, whatever answered there must show it holds this browser's pairing secret. The computation is
// the app's (main/core/pairing.ts), with WebCrypto.
import { keyIdInput, proofMessage } from '../common/protocol-constants.ts';

const encoder = new TextEncoder();

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

export interface Challenge {
  message: { type: 'challenge'; keyId: string; nonce: string };
  /** Whether the app's answer is the proof for this challenge on `port`. */
  verify(answer: { keyId?: unknown; mac?: unknown }, port: number): Promise<boolean>;
}

export async function makeChallenge(token: string): Promise<Challenge> {
  const tokenHash = await sha256Hex(token);
  const keyId = await sha256Hex(keyIdInput(tokenHash));
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
    .replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  const key = await crypto.subtle.importKey('raw', encoder.encode(tokenHash), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  return {
    message: { type: 'challenge', keyId, nonce },
    async verify(answer, port) {
      if (answer.keyId !== keyId || typeof answer.mac !== 'string' || !/^[0-9a-f]{64}$/.test(answer.mac)) return false;
      const mac = new Uint8Array(answer.mac.match(/../g)!.map((b) => parseInt(b, 16)));
      // crypto.subtle.verify compares in constant time.
      return crypto.subtle.verify('HMAC', key, mac, encoder.encode(proofMessage(location.origin, port, nonce)));
    },
  };
}
