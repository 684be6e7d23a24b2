// The admin web app: static files from admin-ui/ (no build step), index.html at `/` and every
// asset under `/ui/`. Files are revalidated on each load (`no-cache` + ETag): the names carry
// no content hash, so after an upgrade a browser must never run a stale mix of modules, and a
// 304 costs next to nothing on a commune's LAN.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

export interface AdminUiOptions {
  /** Directory holding index.html and the modules (default: the repository's admin-ui/). */
  root?: string;
}

/** Where the assets live, from the source tree (server/) or the compiled one (dist/server/). */
export function adminUiRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../admin-ui'), path.resolve(here, '../../admin-ui')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? candidates[0];
}

// Everything the app needs comes from this server: the machines are offline and a page that
// pulls in foreign scripts is a page someone else can change. Media plays from blob: URLs
// (fetched with the bearer token, which an <audio src> could not send).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function commonHeaders(reply: FastifyReply | { setHeader(name: string, value: string): void }): void {
  const set = 'setHeader' in reply ? (n: string, v: string) => reply.setHeader(n, v) : (n: string, v: string) => reply.header(n, v);
  set('cache-control', 'no-cache');
  set('x-content-type-options', 'nosniff');
  set('referrer-policy', 'no-referrer');
}

const adminUi: FastifyPluginAsync<AdminUiOptions> = async (app, options) => {
  const root = options.root ?? adminUiRoot();
  // Encapsulated (no fastify-plugin wrapper): reply.sendFile stays inside this plugin, so it
  // cannot clash with the static server of /docs.
  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: false,
    etag: true,
    lastModified: true,
    schemaHide: true,
    setHeaders: (res) => commonHeaders(res),
  });

  const sendIndex = async (_request: unknown, reply: FastifyReply) => {
    commonHeaders(reply);
    reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    return reply.type('text/html; charset=utf-8').sendFile('index.html', root, { cacheControl: false });
  };
  // The one i18n table, beside admin-ui/ in the repository (admin-ui/i18n.js imports ../i18n/messages.js).
  const i18nRoot = path.resolve(root, '../i18n');
  app.get('/i18n/messages.js', { schema: { hide: true } }, async (_request, reply) => {
    commonHeaders(reply);
    return reply.type('text/javascript; charset=utf-8').sendFile('messages.js', i18nRoot, { cacheControl: false });
  });
  app.get('/', { schema: { hide: true } }, sendIndex);
  app.get('/index.html', { schema: { hide: true } }, sendIndex);
};

export default adminUi;
