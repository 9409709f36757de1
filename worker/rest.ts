// Calls the portal's REST API the way BX24.callMethod does: POST https://DOMAIN/rest/<method>.json with the
// frame's access token, refreshed through the parent when it expired.
import type { Bx24Frame } from './bx24-frame.ts';

export class RestClient {
  private readonly frame: Bx24Frame;
  private readonly base: string;
  private auth: string;

  constructor(frame: Bx24Frame, path: string, auth: string) {
    this.frame = frame;
    this.base = `${frame.context.parentOrigin}${path || '/rest'}`;
    this.auth = auth;
  }

  async call(method: string, params: Record<string, string> = {}): Promise<unknown> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const body = new URLSearchParams({ ...params, auth: this.auth });
      const response = await fetch(`${this.base}/${method}.json`, { method: 'POST', body });
      const data = (await response.json().catch(() => ({}))) as { result?: unknown; error?: string; error_description?: string };
      if (data.error === 'expired_token' && attempt === 0) {
        const fresh = await this.frame.refreshAuth();
        if (fresh?.AUTH_ID) {
          this.auth = fresh.AUTH_ID;
          continue;
        }
      }
      if (!response.ok || data.error) throw new Error(`${method}: ${data.error_description ?? data.error ?? response.status}`);
      return data.result;
    }
    throw new Error(`${method}: the token could not be refreshed`);
  }
}
