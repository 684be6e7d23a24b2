// Liveness (the process answers) and readiness (the database and the media engine answer, and
// nothing is held back: as-run rows that cannot reach the disk make the server "degraded").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { ApiDeps } from '../app.js';
import { requestLang } from '../app.js';
import { translate, type MessageKey, type MessageParams } from '../i18n.js';
import { isDatabaseUnavailable, unavailableReason } from '../db/unavailable.js';

/** Something that works less well than it should, while audio goes on. */
export interface Degradation {
  /** What is degraded: 'database', 'as-run-journal', … */
  component: string;
  /** Stable machine code. */
  code: string;
  /** The sentence shown to the caller. */
  key: MessageKey;
  params?: MessageParams;
  /** The technical reason (error code and message). */
  reason: string;
}

/** Readiness probe of the database: long enough for a loaded machine, short enough for a monitor. */
const PROBE_TIMEOUT_MS = 3000;

const Reason = Type.Object({ component: Type.String(), code: Type.String(), reason: Type.String(), message: Type.String() });
const Status = Type.Object({ status: Type.String(), database: Type.Optional(Type.String()), engine: Type.Optional(Type.String()) });
const NotReady = Type.Object({
  error: Type.String(),
  message: Type.String(),
  status: Type.Optional(Type.String()),
  reasons: Type.Optional(Type.Array(Reason)),
});

async function probeDatabase(deps: ApiDeps): Promise<Degradation | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(deps.database.db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`database unavailable: no answer to the readiness probe within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    deps.database.availability?.succeeded();
    return null;
  } catch (err) {
    if (isDatabaseUnavailable(err)) deps.database.availability?.failed(err);
    return { component: 'database', code: 'database-unavailable', key: 'database_unavailable', reason: unavailableReason(err) };
  } finally {
    clearTimeout(timer);
  }
}

const healthRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, deps) => {
  const { database, config, broadcast } = deps;
  app.get('/healthz', { schema: { tags: ['health'], security: [], response: { 200: Status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['health'], security: [], response: { 200: Status, 503: NotReady } } }, async (request, reply) => {
    const lang = requestLang(request, config);
    // A dead media worker means no audio anywhere: not ready, whatever the database says.
    if (broadcast && !broadcast.engineAlive) {
      return reply.status(503).send({ error: 'engine_down', message: translate(lang, 'engine_down') });
    }
    const degraded = [await probeDatabase(deps), ...(deps.readiness?.() ?? [])].filter((d): d is Degradation => d !== null);
    if (degraded.length === 0) return { status: 'ok', database: database.dialect, ...(broadcast && { engine: 'running' }) };
    request.log.warn({ degraded: degraded.map(({ component, reason }) => ({ component, reason })) }, 'readiness: degraded');
    const reasons = degraded.map((d) => ({ component: d.component, code: d.code, reason: d.reason, message: translate(lang, d.key, d.params) }));
    return reply.status(503).send({ status: 'degraded', error: degraded[0].code, message: reasons.map((r) => r.message).join(' '), reasons });
  });
};
export default healthRoutes;
