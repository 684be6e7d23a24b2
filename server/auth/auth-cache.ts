// Who a bearer token is and what they may do where, held in memory so that a request (above
// all an emergency play) is authorised without a database round trip. Why: with 1000
// endpoints connected, the embedded database's one query queue also carries endpoint
// attach/online writes and stats batches; the token, user, grants and zone lookups of one
// POST /playback waited behind them (bench N=1000: ~350 ms before the engine got the command).
//
// Kept current from the database by reloading everything (zones, users, grants, tokens: small
// tables) after a successful change through the API routes that change them (request-auth.ts
// calls refresh() before the answer goes out, so the caller's next request sees the change),
// and every REFRESH_INTERVAL_MS as a safety net for changes made behind the API's back.
// A token the cache does not know (a new login, a token made directly in the database) is
// looked up in the database once, then served from memory; unknown tokens are not cached.
import type { Kysely } from 'kysely';
import type { DB, TokenKind } from '../db/types.js';
import type { FastifyBaseLogger } from 'fastify';
import type { AuthUser } from './context.js';
import { loadGrants } from './context.js';
import type { Grant } from './permissions.js';
import { sha256Hex, TOUCH_INTERVAL_MS } from './tokens.js';

/** Safety-net reload period: changes made behind the API's back show up within this. */
export const REFRESH_INTERVAL_MS = 60_000;

interface CachedToken {
  tokenId: string;
  userId: string;
  kind: TokenKind;
  expiresAtMs: number | null;
  lastUsedAtMs: number | null;
}

interface CachedUser extends AuthUser {
  disabled: boolean;
  grants: Grant[];
}

export interface CachedZone {
  id: string;
  path: string;
}

interface Snapshot {
  tokens: Map<string, CachedToken>;
  users: Map<string, CachedUser>;
  zones: Map<string, CachedZone>;
}

export interface Authenticated {
  user: AuthUser;
  grants: readonly Grant[];
  tokenId: string;
}

export class AuthCache {
  private snap: Snapshot = { tokens: new Map(), users: new Map(), zones: new Map() };
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** Full reloads done (tests, diagnostics). */
  reloads = 0;
  /** Lookups that had to ask the database (tokens or zones not in memory). */
  misses = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly logger?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'debug'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads everything, then reloads every `intervalMs` (0: never) until close(). */
  async start(intervalMs = REFRESH_INTERVAL_MS): Promise<void> {
    await this.refresh();
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.refresh(), intervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reloads from the database; resolves once a reload that STARTED after this call has
   * finished (a reload already under way may have read the tables before the caller's change).
   * Never rejects: on failure the previous state is kept and the failure logged once.
   */
  refresh(): Promise<void> {
    if (!this.running) return (this.running = this.reloadThenClear());
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return (this.running = this.reloadThenClear());
    });
    return this.queued;
  }

  private async reloadThenClear(): Promise<void> {
    try {
      await this.reload();
    } finally {
      this.running = undefined;
    }
  }

  private async reload(): Promise<void> {
    try {
      const [zoneRows, userRows, grantRows, tokenRows] = await Promise.all([
        this.db.selectFrom('zones').select(['id', 'path']).execute(),
        this.db.selectFrom('users').select(['id', 'username', 'display_name', 'disabled']).execute(),
        this.db.selectFrom('role_assignments').select(['id', 'user_id', 'role', 'zone_id']).execute(),
        this.db.selectFrom('tokens').select(['id', 'user_id', 'hash', 'kind', 'expires_at', 'last_used_at']).execute(),
      ]);
      const zones = new Map(zoneRows.map((z) => [z.id, { id: z.id, path: z.path }]));
      const users = new Map<string, CachedUser>(
        userRows.map((u) => [u.id, { id: u.id, username: u.username, displayName: u.display_name, disabled: u.disabled, grants: [] }]),
      );
      for (const g of grantRows) {
        const user = users.get(g.user_id);
        if (!user) continue;
        if (g.zone_id !== null && !zones.has(g.zone_id)) continue; // its zone is gone (the row goes with it)
        user.grants.push({ id: g.id, role: g.role, zoneId: g.zone_id, zonePath: g.zone_id === null ? null : zones.get(g.zone_id)!.path });
      }
      const tokens = new Map<string, CachedToken>();
      for (const t of tokenRows) {
        // Keep the newer in-memory touch: the database is only told about it once a minute.
        const known = this.snap.tokens.get(t.hash);
        const lastUsed = Math.max(t.last_used_at?.getTime() ?? 0, known?.lastUsedAtMs ?? 0) || null;
        tokens.set(t.hash, { tokenId: t.id, userId: t.user_id, kind: t.kind, expiresAtMs: t.expires_at?.getTime() ?? null, lastUsedAtMs: lastUsed });
      }
      this.snap = { tokens, users, zones };
      this.reloads++;
      if (this.failing) this.logger?.info('auth cache reloaded from the database again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger?.warn({ err }, 'could not reload the auth cache; serving the last known users, grants and zones');
      this.failing = true;
    }
  }

  /**
   * The caller behind a bearer token: from memory when the token is known (no database
   * round trip), else one database lookup. undefined: unknown, expired, or user disabled.
   */
  async authenticate(token: string): Promise<Authenticated | undefined> {
    const hash = sha256Hex(token);
    const hit = this.fromMemory(hash);
    if (hit !== 'miss') return hit;
    this.misses++;
    return this.fromDatabase(hash);
  }

  /** Same as authenticate() but never asks the database: 'miss' when the token is not in memory. */
  fromMemory(hash: string): Authenticated | undefined | 'miss' {
    const t = this.snap.tokens.get(hash);
    if (!t) return 'miss';
    const user = this.snap.users.get(t.userId);
    if (!user) return 'miss';
    const now = this.now();
    if (user.disabled || (t.expiresAtMs !== null && t.expiresAtMs <= now)) return undefined;
    if (t.lastUsedAtMs === null || now - t.lastUsedAtMs > TOUCH_INTERVAL_MS) this.touch(t, now);
    return { user: { id: user.id, username: user.username, displayName: user.displayName }, grants: user.grants, tokenId: t.tokenId };
  }

  private async fromDatabase(hash: string): Promise<Authenticated | undefined> {
    const row = await this.db
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .select(['tokens.id', 'tokens.user_id', 'tokens.kind', 'tokens.expires_at', 'tokens.last_used_at', 'users.username', 'users.display_name', 'users.disabled'])
      .where('tokens.hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    const grants = await loadGrants(this.db, row.user_id);
    const user: CachedUser = { id: row.user_id, username: row.username, displayName: row.display_name, disabled: row.disabled, grants };
    const token: CachedToken = { tokenId: row.id, userId: row.user_id, kind: row.kind, expiresAtMs: row.expires_at?.getTime() ?? null, lastUsedAtMs: row.last_used_at?.getTime() ?? null };
    this.snap.users.set(user.id, user);
    this.snap.tokens.set(hash, token);
    for (const g of grants) if (g.zoneId !== null && g.zonePath !== null) this.snap.zones.set(g.zoneId, { id: g.zoneId, path: g.zonePath });
    const hit = this.fromMemory(hash);
    return hit === 'miss' ? undefined : hit;
  }

  /** last_used_at, written after the answer and at most once a minute per token: never in front of a request. */
  private touch(t: CachedToken, now: number): void {
    t.lastUsedAtMs = now;
    setImmediate(() => {
      this.db
        .updateTable('tokens')
        .set({ last_used_at: new Date(now) })
        .where('id', '=', t.tokenId)
        .execute()
        .catch((err) => this.logger?.debug({ err, tokenId: t.tokenId }, 'could not record token use'));
    });
  }

  /** A zone's id and path from memory (undefined: not known in memory). */
  zoneInMemory(id: string): CachedZone | undefined {
    return this.snap.zones.get(id);
  }

  /**
   * A zone's id and path: from memory, or (a zone made behind the API's back since the last
   * reload) one database lookup. undefined: no such zone.
   */
  async zone(id: string): Promise<CachedZone | undefined> {
    const z = this.snap.zones.get(id);
    if (z) return z;
    this.misses++;
    const row = await this.db.selectFrom('zones').select(['id', 'path']).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const zone = { id: row.id, path: row.path };
    this.snap.zones.set(zone.id, zone);
    return zone;
  }
}
