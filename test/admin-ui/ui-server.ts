// The real Loa app plus the admin UI on one origin, for browser tests. When the lead has wired
// server/admin-ui.ts into buildApp, the app is used as it is; until then a front server holds
// the UI plugin and passes /api/* and /docs* through to the app (buildApp returns a ready app,
// which takes no further plugins).
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig, type LoaConfig } from '../../server/config.js';
import { buildApp } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import adminUi from '../../server/admin-ui.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface UiServer {
  /** http://127.0.0.1:PORT — what the browser opens. */
  url: string;
  app: FastifyInstance;
  database: TestDatabase;
  config: LoaConfig;
  /** True when buildApp already serves the UI (the plugin is wired in server/app.ts). */
  wired: boolean;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export async function startUiServer(t: Teardown): Promise<UiServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-ui-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ LOA_DATA_DIR: dataDir, LOA_LOG_LEVEL: 'silent', LOA_DEMO_DATA: 'false' });
  const database = await openTestDatabase(t);
  const app = await buildApp({ config, database, logger: createLogger({ level: 'silent' }) });
  t.teardown(() => app.close());
  const appUrl = await listen(app);

  const probe = await app.inject({ method: 'GET', url: '/' });
  if (probe.statusCode === 200 && String(probe.headers['content-type']).startsWith('text/html')) {
    return { url: appUrl, app, database, config, wired: true };
  }

  const front = Fastify();
  t.teardown(() => front.close());
  await front.register(adminUi);
  // Bodies are passed on untouched (multipart uploads included).
  front.removeAllContentTypeParsers();
  front.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const target = new URL(appUrl);
  const pass = (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    reply.hijack();
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (res) => {
        reply.raw.writeHead(res.statusCode ?? 502, res.headers);
        res.pipe(reply.raw);
      },
    );
    upstream.on('error', () => reply.raw.destroy());
    request.raw.pipe(upstream);
  };
  front.all('/api/*', pass);
  front.all('/docs*', pass);
  const url = await listen(front);
  return { url, app, database, config, wired: false };
}
