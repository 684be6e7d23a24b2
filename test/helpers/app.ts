// A ready fastify app on a fresh test database, and quick ways to make users with grants.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type LoaConfig } from '../../server/config.js';
import { buildApp } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import { newId } from '../../server/ids.js';
import { hashSecret } from '../../server/auth/password.js';
import { issueToken } from '../../server/auth/tokens.js';
import { childPath } from '../../server/zone-tree.js';
import type { Role, Zone } from '../../server/db/types.js';
import { openTestDatabase, type TestDatabase } from './database.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: LoaConfig;
  /** Creates a user holding these grants and returns a session token for them. */
  user(grants: { role: Role; zoneId: string | null }[], username?: string): Promise<{ id: string; token: string }>;
  zone(parent: Zone | null, name?: string, kind?: string): Promise<Zone>;
}

export async function buildTestApp(t: Teardown, env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-test-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ LOA_DATA_DIR: dataDir, LOA_LOG_LEVEL: 'silent', LOA_DEMO_DATA: 'false', ...env });
  const database = await openTestDatabase(t);
  const app = await buildApp({ config, database, logger: createLogger({ level: config.logLevel }) });
  t.teardown(() => app.close());
  // One cheap hash for all test users: their password is never used, tokens are issued directly.
  const passwordHash = await hashSecret('unused-password', 1 << 4);
  return {
    app,
    database,
    config,
    async user(grants, username) {
      const id = newId('user');
      await database.db.insertInto('users').values({ id, username: username ?? id, display_name: username ?? id, password_hash: passwordHash }).execute();
      for (const g of grants) {
        await database.db.insertInto('role_assignments').values({ id: newId('role'), user_id: id, role: g.role, zone_id: g.zoneId }).execute();
      }
      const { token } = await issueToken(database.db, id, 'session');
      return { id, token };
    },
    async zone(parent, name, kind = 'zone') {
      const id = newId('zone');
      return database.db
        .insertInto('zones')
        .values({ id, parent_id: parent?.id ?? null, kind, name: name ?? id, time_zone: 'Asia/Ho_Chi_Minh', path: childPath(parent?.path ?? null, id) })
        .returningAll()
        .executeTakeFirstOrThrow();
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
