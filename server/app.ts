// The HTTP application: fastify with TypeBox schemas on every route, OpenAPI generated from
// them, one error shape `{ error, message }` translated to the caller's language, and one
// plugin per feature under /api/v1.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import multipart from '@fastify/multipart';
import type { LoaConfig, Lang } from './config.js';
import { listSetting } from './config.js';
import type { Database } from './db/types.js';
import type { Logger } from './logger.js';
import { ApiError, databaseUnavailable } from './errors.js';
import { isDatabaseUnavailable } from './db/unavailable.js';
import { pickLang, translate, type MessageKey, type MessageParams } from './i18n.js';
import { installAuth } from './auth/request-auth.js';
import healthRoutes, { type Degradation } from './api/health.js';
import authRoutes from './api/auth.js';
import zoneRoutes from './api/zones.js';
import endpointRoutes from './api/endpoints.js';
import mediaRoutes from './api/media.js';
import userRoutes from './api/users.js';
import playbackRoutes from './api/playback.js';
import streamRoutes from './api/streams.js';
import controlChannel from './broadcast/control-channel.js';
import type { BroadcastHooks, BroadcastHost } from './broadcast/engine-host.js';
import adminUi from './admin-ui.js';
import timetableRoutes from './api/timetables.js';
import asRunRoutes from './api/as-run.js';
import alertRoutes from './api/alerts.js';
import capRoutes from './api/cap.js';
import { alertUrlFetcher, offlineVoice } from './alerts/alert-voices.js';
import { AlertService, type AlertServiceOptions } from './alerts/service.js';

export interface AppOptions {
  config: LoaConfig;
  database: Database;
  logger: Logger;
  /**
   * The media engine and its ties (server/broadcast/engine-host.ts), made by main.ts. Without
   * it the app serves data only: no playback, streams or endpoint control channel (tests of
   * the foundation).
   */
  broadcast?: BroadcastHost;
  /** What else makes the server degraded in /readyz (the as-run journal, from main.ts). */
  readiness?: () => Degradation[];
  /**
   * Alerts (with a broadcast host): a service made by the caller (who closes it), or options
   * for the one the app makes and closes (speech synthesiser, URL fetcher, clock…).
   */
  alerts?: AlertService | Partial<Omit<AlertServiceOptions, 'database' | 'host' | 'logger'>>;
}

/** What every feature plugin receives. */
export interface ApiDeps {
  config: LoaConfig;
  database: Database;
  /** Zones and endpoints routes call these after a change, so the media engine follows. */
  broadcast?: BroadcastHooks;
  readiness?: () => Degradation[];
}

export type App = FastifyInstance;

export function requestLang(request: FastifyRequest, config: LoaConfig): Lang {
  const header = request.headers['accept-language'];
  return pickLang(Array.isArray(header) ? header[0] : header, config.lang);
}

interface ErrorBody {
  status: number;
  code: string;
  key: MessageKey;
  params?: MessageParams;
}

function formatMb(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/** Maps anything thrown in a request to a status, a code and a message. */
function classify(error: FastifyError & { validation?: unknown[] }, config: LoaConfig): ErrorBody {
  if (error instanceof ApiError) return { status: error.statusCode, code: error.code, key: error.messageKey, params: error.params };
  if (isDatabaseUnavailable(error)) {
    const e = databaseUnavailable();
    return { status: e.statusCode, code: e.code, key: e.messageKey };
  }
  if (error.validation) {
    const first = (error.validation as { instancePath?: string; message?: string; params?: Record<string, unknown> }[])[0] ?? {};
    const where = error.validationContext ?? 'body';
    const missing = typeof first.params?.missingProperty === 'string' ? `/${first.params.missingProperty}` : '';
    const field = `${where}${(first.instancePath ?? '') + missing}`.replace(/\//g, '.');
    const detail = missing ? 'is required' : (first.message ?? 'invalid');
    return { status: 400, code: 'validation', key: 'validation', params: { field, detail } };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'bad_json', key: 'bad_json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'empty_body', key: 'empty_body' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'too_large', key: 'too_large', params: { limit: formatMb(1024 * 1024) } };
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return { status: 413, code: 'too_large', key: 'too_large', params: { limit: `${config.maxUploadMb} MB` } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return { status: 415, code: 'unsupported_media_type', key: 'unsupported_media_type', params: { type: '' } };
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return { status: 400, code: 'bad_json', key: 'bad_json' };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, code: 'bad_request', key: 'bad_request', params: { detail: error.message.replace(/\.$/, '') } };
  }
  return { status: 500, code: 'internal', key: 'internal' };
}

export async function buildApp({ config, database, logger, broadcast, readiness, alerts: alertsOption }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 1024 * 1024,
    // Bodies are checked as sent: a string is not silently turned into a number.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error: FastifyError & { validation?: unknown[] }, request, reply) => {
    const body = classify(error, config);
    if (body.code === 'unsupported_media_type') body.params = { type: String(request.headers['content-type'] ?? '') };
    if (body.code === 'database-unavailable') {
      // One line per outage (db/availability.ts), not one error per request while it lasts.
      database.availability?.failed(error);
      request.log.debug({ err: error }, 'request failed: database unavailable');
      void reply.header('retry-after', '5');
    } else if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, 'request rejected');
    const lang = requestLang(request, config);
    const details = error instanceof ApiError && error.details.length ? { details: error.details.map((d) => ({ path: d.path, code: d.code, message: translate(lang, d.messageKey, d.params) })) } : {};
    return reply.status(body.status).send({ error: body.code, message: translate(lang, body.key, body.params), ...details });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: 'not_found',
      message: translate(requestLang(request, config), 'route_not_found', { method: request.method, url: request.url.split('?')[0] }),
    }),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Loa API', version: '1', description: 'Broadcast server for networks of IP loudspeakers.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart, {
    limits: { fileSize: config.maxUploadMb * 1024 * 1024, files: 1, fields: 10, parts: 12, fieldSize: 64 * 1024 },
  });

  const deps: ApiDeps = { config, database, broadcast, readiness };
  await app.register(adminUi);
  await app.register(healthRoutes, deps);
  await app.register(
    async (api) => {
      installAuth(api, database.db);
      api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
      await api.register(authRoutes, deps);
      await api.register(zoneRoutes, deps);
      await api.register(endpointRoutes, deps);
      await api.register(mediaRoutes, deps);
      await api.register(userRoutes, deps);
      await api.register(timetableRoutes, deps);
      await api.register(asRunRoutes, deps);
      if (broadcast) {
        await api.register(controlChannel, { host: broadcast, database });
        await api.register(playbackRoutes, { ...deps, broadcast });
        await api.register(streamRoutes, { ...deps, broadcast });
        let alerts: AlertService;
        if (alertsOption instanceof AlertService) alerts = alertsOption;
        else {
          const own = await AlertService.start({
            database,
            host: broadcast,
            logger,
            dataDir: config.dataDir,
            timeZone: config.timezone,
            speech: await offlineVoice(config.dataDir, logger),
            fetchUrl: alertUrlFetcher(config.dataDir, config.ffmpegPath, listSetting(config.capAllowHosts)),
            ...alertsOption,
          });
          api.addHook('onClose', () => own.close());
          alerts = own;
        }
        await api.register(alertRoutes, { ...deps, alerts });
        await api.register(capRoutes, { ...deps, alerts });
      }
    },
    { prefix: '/api/v1' },
  );
  await app.ready();
  return app as unknown as FastifyInstance;
}
