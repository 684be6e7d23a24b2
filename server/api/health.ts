// Liveness (the process answers) and readiness (the database and the media engine answer).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { ApiDeps } from '../app.js';
import { requestLang } from '../app.js';
import { translate } from '../i18n.js';

const Status = Type.Object({ status: Type.String(), database: Type.Optional(Type.String()), engine: Type.Optional(Type.String()) });

const healthRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database, config, broadcast }) => {
  app.get('/healthz', { schema: { tags: ['health'], security: [], response: { 200: Status } } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { tags: ['health'], security: [], response: { 200: Status, 503: Type.Object({ error: Type.String(), message: Type.String() }) } } },
    async (request, reply) => {
      // A dead media worker means no audio anywhere: not ready, whatever the database says.
      if (broadcast && !broadcast.engineAlive) {
        return reply.status(503).send({ error: 'engine_down', message: translate(requestLang(request, config), 'engine_down') });
      }
      try {
        await sql`select 1`.execute(database.db);
        return { status: 'ok', database: database.dialect, ...(broadcast && { engine: 'running' }) };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.status(503).send({ error: 'not_ready', message: translate(requestLang(request, config), 'not_ready') });
      }
    },
  );
};
export default healthRoutes;
