/**
 * The real server for integration tests: a fresh test database (PGlite, or the
 * DATABASE_URL server), the BroadcastHost with its media engine on a free RTP
 * port, the fastify app listening on 127.0.0.1:0, and helpers to make users
 * and call the API. Everything is closed in teardown (app, host, database).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashSecret } from '../../server/auth/password.js';
import { issueToken } from '../../server/auth/tokens.js';
import { BroadcastHost, type BroadcastHostOptions } from '../../server/broadcast/engine-host.js';
import { loadConfig, type LoaConfig } from '../../server/config.js';
import type { Role, Zone } from '../../server/db/types.js';
import { newId } from '../../server/ids.js';
import { createLogger } from '../../server/logger.js';
import { childPath } from '../../server/zone-tree.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface BroadcastServer {
  app: FastifyInstance;
  host: BroadcastHost;
  database: TestDatabase;
  config: LoaConfig;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT — what agents are given as --server. */
  wsUrl: string;
  /** A global admin's bearer token. */
  adminToken: string;
  user(grants: { role: Role; zoneId: string | null }[]): Promise<{ id: string; token: string }>;
  /** A zone written straight to the database (then pushed to the engine). */
  zone(parent: Zone | null, name?: string): Promise<Zone>;
  /** JSON request; returns status and parsed body. */
  api<T = any>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T; text: string; headers: Headers }>;
}

export async function startBroadcastServer(t: Teardown, hostOptions: Partial<BroadcastHostOptions> = {}): Promise<BroadcastServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-it-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ LOA_DATA_DIR: dataDir, LOA_LOG_LEVEL: process.env.LOA_TEST_LOG ?? 'silent', LOA_DEMO_DATA: 'false' });
  const logger = createLogger({ level: config.logLevel });
  const database = await openTestDatabase(t);
  const host = await BroadcastHost.start({ database, logger, rtpPort: 0, rtpBindHost: '127.0.0.1', publicHost: '127.0.0.1', ...hostOptions });
  // Registered before the app's teardown so it runs after it (tap runs teardowns in reverse).
  t.teardown(() => host.close());
  const app = await buildApp({ config, database, logger, broadcast: host });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const passwordHash = await hashSecret('unused-password', 1 << 4);
  const user: BroadcastServer['user'] = async (grants) => {
    const id = newId('user');
    await database.db.insertInto('users').values({ id, username: id, display_name: id, password_hash: passwordHash }).execute();
    for (const g of grants) await database.db.insertInto('role_assignments').values({ id: newId('role'), user_id: id, role: g.role, zone_id: g.zoneId }).execute();
    return { id, token: (await issueToken(database.db, id, 'session')).token };
  };
  const admin = await user([{ role: 'admin', zoneId: null }]);

  return {
    app,
    host,
    database,
    config,
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    adminToken: admin.token,
    user,
    async zone(parent, name) {
      const id = newId('zone');
      const row = await database.db
        .insertInto('zones')
        .values({ id, parent_id: parent?.id ?? null, kind: 'zone', name: name ?? id, time_zone: 'Asia/Ho_Chi_Minh', path: childPath(parent?.path ?? null, id) })
        .returningAll()
        .executeTakeFirstOrThrow();
      await host.zonesChanged();
      return row;
    },
    async api(method, path, body, token = admin.token) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'accept-language': 'en', ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON (SDP, empty) */
      }
      return { status: res.status, body: parsed as never, text, headers: res.headers };
    },
  };
}

/** Polls `cond` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Polls `count` every 20 ms until it reaches `target`. Fails with `what` only when the count
 * has not grown for `stallMs`: on a loaded machine fifty agents take long to start and
 * connect, but while they keep coming nothing is wrong; a broken path stops the count.
 */
export async function untilAll(count: () => number | Promise<number>, target: number, what: string, stallMs = 30_000): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await count();
    if (n >= target) return;
    if (n > last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since > stallMs) {
      throw new Error(`timed out waiting for ${what}: ${n} of ${target}, none more in ${stallMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
