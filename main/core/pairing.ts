// Pairing: a worker speaking for a new (origin, portal, operator) waits until it is approved (the desktop app
// asks the operator; `serve --auto-approve` trusts the allow-listed origins). Approval issues a token that the worker
// keeps; only its SHA-256 is stored, so a copy of the database does not let anyone impersonate a worker.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { keyIdInput, proofMessage } from '../../common/protocol-constants.ts';
import type { BlockRow, SessionStore, PairingRow } from './store/session-store.ts';

export interface PairingRequest {
  origin: string;
  domain: string;
  memberId: string;
  userId: string;
  userName: string | null;
}

/**
 * Answers whether a new worker may connect: true (pair it), false (block it, remembered), or null (no answer,
 * e.g. the app is quitting: refused this time, asked again next time). The desktop app asks the operator.
 */
export type ApprovePairing = (request: PairingRequest) => Promise<boolean | null>;

export type PairingVerdict =
  | { ok: true; pairingId: number; newToken?: string; ids: { portalId: number; operatorId: number } }
  | { ok: false; reason: 'revoked' | 'rejected' | 'undecided' | 'too_many_bad_tokens' | 'too_many_prompts' };

/** Unknown tokens accepted per minute from one origin before its unknown tokens are refused for a while. */
export const BAD_TOKENS_PER_MINUTE = 20;

/** Prompts waiting for the operator at once from one origin; more requests are refused without a prompt. */
export const MAX_PROMPTS_PER_ORIGIN = 3;
/** How long a prompt waits for the operator before the request is refused this time (it may ask again). */
export const PAIRING_PROMPT_TIMEOUT_MS = 120_000;

export interface PairingOptions {
  /** Requests approved at once, without asking (e.g. `serve --auto-approve` for allow-listed origins). */
  trusted: (request: PairingRequest) => boolean;
  approve: ApprovePairing;
  now: () => number;
  /** Default `PAIRING_PROMPT_TIMEOUT_MS`. */
  promptTimeoutMs?: number;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The public name of a pairing, derived from its token hash (docs/protocol.md, "Proving the app"). */
export function keyIdOf(tokenHash: string): string {
  return createHash('sha256').update(keyIdInput(tokenHash)).digest('hex');
}

/** The app's proof for a worker's challenge; the worker computes the same with WebCrypto. */
export function pairingProof(tokenHash: string, workerOrigin: string, appPort: number, nonce: string): string {
  return createHmac('sha256', tokenHash).update(proofMessage(workerOrigin, appPort, nonce)).digest('hex');
}

export class PairingService {
  private readonly store: SessionStore;
  private readonly options: PairingOptions;
  /** One prompt per (origin, portal, operator), however many tabs ask at once. */
  private readonly pending = new Map<string, Promise<boolean | null>>();
  /**
   * Times of recent unknown tokens, per origin (the only thing that tells sources apart on loopback): guessing
   * 256-bit tokens is hopeless, and this keeps it slow too. Known tokens are never counted or refused.
   */
  private readonly badTokens = new Map<string, number[]>();

  constructor(store: SessionStore, options: PairingOptions) {
    this.store = store;
    this.options = options;
  }

  /**
   * Decides about a worker that identified itself. `onPending` is called when a person has to decide. Nothing
   * is written until the worker is authorised (a known token, a trusted origin, or the operator's yes): only then
   * are its portal and operator rows created or brought up to date, and their ids returned.
   */
  async authorize(request: PairingRequest, token: string | undefined, onPending: () => void): Promise<PairingVerdict> {
    const identity = { memberId: request.memberId, domain: request.domain, userId: request.userId, userName: request.userName };
    const known = this.store.findOperator(identity);
    if (token !== undefined) {
      const row = this.store.findPairing(hashToken(token));
      // A token only counts for the client it was issued to; anything else is treated as no token at all.
      if (row && known && row.origin === request.origin && row.portalId === known.portalId && row.operatorId === known.operatorId) {
        // A known token always gets in, however many unknown ones others tried meanwhile.
        if (row.revokedAt !== null) return { ok: false, reason: 'revoked' };
        this.store.touchPairing(row.id, this.options.now());
        return { ok: true, pairingId: row.id, ids: this.store.resolveOperator(identity, this.options.now()) };
      }
      if (!this.countBadToken(request.origin)) return { ok: false, reason: 'too_many_bad_tokens' };
    }
    // Blocked once, blocked until the operator lifts it in the settings: a tab cannot nag.
    if (known && this.store.isBlocked(request.origin, known.portalId, known.operatorId)) return { ok: false, reason: 'rejected' };
    if (this.options.trusted(request)) return this.issue(request);
    const key = JSON.stringify([request.origin, request.memberId, request.userId]);
    let decision = this.pending.get(key);
    if (!decision) {
      // A page (or a local program) must not be able to bury the operator in prompts, nor keep one for ever.
      const fromOrigin = [...this.pending.keys()].filter((k) => (JSON.parse(k) as string[])[0] === request.origin).length;
      if (fromOrigin >= MAX_PROMPTS_PER_ORIGIN) return { ok: false, reason: 'too_many_prompts' };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), this.options.promptTimeoutMs ?? PAIRING_PROMPT_TIMEOUT_MS);
      });
      decision = Promise.race([this.options.approve(request).catch(() => null), timeout]).finally(() => {
        clearTimeout(timer);
        this.pending.delete(key);
      });
      this.pending.set(key, decision);
    }
    onPending();
    const approved = await decision;
    if (approved === null) return { ok: false, reason: 'undecided' };
    if (!approved) {
      // The operator's no is remembered; the rows it needs are created, but nothing that exists is changed.
      const ids = this.store.resolveOperator(identity, this.options.now(), false);
      this.store.block(request.origin, ids.portalId, ids.operatorId, this.options.now());
      return { ok: false, reason: 'rejected' };
    }
    return this.issue(request);
  }

  /** Records an unknown token from `origin`; false once that origin has had its share this minute. */
  private countBadToken(origin: string): boolean {
    const now = this.options.now();
    for (const [key, times] of this.badTokens) {
      const recent = times.filter((t) => now - t < 60_000);
      if (recent.length === 0) this.badTokens.delete(key);
      else this.badTokens.set(key, recent);
    }
    const recent = this.badTokens.get(origin) ?? [];
    if (recent.length >= BAD_TOKENS_PER_MINUTE) return false;
    recent.push(now);
    this.badTokens.set(origin, recent);
    return true;
  }

  private issue(request: PairingRequest): PairingVerdict {
    const ids = this.store.resolveOperator(
      { memberId: request.memberId, domain: request.domain, userId: request.userId, userName: request.userName },
      this.options.now(),
    );
    const newToken = randomBytes(32).toString('base64url');
    const pairingId = this.store.insertPairing(request.origin, ids.portalId, ids.operatorId, hashToken(newToken), this.options.now());
    return { ok: true, pairingId, newToken, ids };
  }

  /**
   * Answers a paired worker's challenge: the proof for the pairing its `keyId` names (revoked ones too, so that
   * the worker then hears that it was revoked), or null. Looked up among the pairings of the socket's origin.
   */
  prove(origin: string, appPort: number, keyId: string, nonce: string): string | null {
    const hashes = this.store.db
      .prepare<[string], { tokenHash: string }>('SELECT token_hash AS tokenHash FROM pairings WHERE origin = ?')
      .all(origin);
    const wanted = Buffer.from(keyId, 'hex');
    for (const { tokenHash } of hashes) {
      const candidate = Buffer.from(keyIdOf(tokenHash), 'hex');
      if (candidate.length === wanted.length && timingSafeEqual(candidate, wanted)) return pairingProof(tokenHash, origin, appPort, nonce);
    }
    return null;
  }

  list(): PairingRow[] {
    return this.store.listPairings();
  }

  blocked(): BlockRow[] {
    return this.store.listBlocks();
  }

  /** Lets a blocked client ask again. */
  unblock(blockId: number): boolean {
    return this.store.unblock(blockId);
  }

  /** Returns false when there is no such active pairing. */
  revoke(pairingId: number): boolean {
    return this.store.revokePairing(pairingId, this.options.now());
  }
}
