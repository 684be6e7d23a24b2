// The as-run log, read back: rows (paged by a cursor), the same as CSV for spreadsheets, and
// per-zone monthly hours by kind for the yearly report. Only rows of zones in the caller's
// subtree are visible; times are shown in the zone's time zone.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql, type SqlBool } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import { asRunToCsv } from '../../scheduler/csv.js';
import { monthlyStats } from '../../scheduler/monthly-stats.js';
import { utcMsToIsoWithOffset } from '../../scheduler/local-time.js';
import type { ApiDeps } from '../app.js';
import { requestLang } from '../app.js';
import type { AuthContext } from '../auth/context.js';
import { inSubtrees } from '../zone-tree.js';
import { dbRowToAsRun } from '../as-run/store.js';
import { timetableDb } from '../timetable/tables.js';
import { TimetableError, installTimetableErrors } from '../timetable/errors.js';
import { translate } from '../i18n.js';
import { errors } from './schemas.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const MAX_CSV_ROWS = 100_000;
/** Intervals that began this long before 1 January still count from 1 January on. */
const STATS_LOOKBACK_MS = 86_400_000;

const Filters = {
  zoneId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'this zone and its subtree' })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'media, playlist, relay, live, alert…' })),
};

export const AsRunItemSchema = Type.Object({
  id: Type.String(),
  zoneId: Type.String(),
  programme: Type.String(),
  kind: Type.String(),
  programmeId: Type.Union([Type.String(), Type.Null()]),
  entryId: Type.Union([Type.String(), Type.Null()]),
  airingId: Type.Union([Type.String(), Type.Null()]),
  event: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ description: 'ISO 8601 with the zone’s offset' }),
  mediaPositionMs: Type.Union([Type.Integer(), Type.Null()]),
  by: Type.String(),
});

interface Cursor {
  atMs: number;
  id: number;
}
const encodeCursor = (c: Cursor) => Buffer.from(`${c.atMs}:${c.id}`).toString('base64url');
function decodeCursor(text: string): Cursor {
  const m = /^(\d{1,15}):(\d{1,18})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!m) throw new TimetableError(400, 'validation', 'bad_cursor');
  return { atMs: Number(m[1]), id: Number(m[2]) };
}

function parseInstant(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new TimetableError(400, 'validation', 'bad_time_range', { detail: `${name} must be an ISO 8601 date-time` });
  return ms;
}

const asRunRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database, config }) => {
  const db = timetableDb(database.db);
  installTimetableErrors(app, config);

  interface Query {
    zoneId?: string;
    from?: string;
    to?: string;
    kind?: string;
  }

  /** The visible rows matching the filters, oldest first, and the time zone to show them in. */
  async function select(auth: AuthContext, q: Query, opts: { limit: number; after?: Cursor; fromMs?: number; toMs?: number }) {
    let timeZone = config.timezone;
    let query = db
      .selectFrom('as_run')
      .innerJoin('zones', 'zones.id', 'as_run.zone_id')
      .selectAll('as_run')
      .select('zones.time_zone')
      .where(auth.zoneFilter('read'));
    if (q.zoneId !== undefined) {
      const zone = await auth.requireZone('read', q.zoneId);
      timeZone = zone.time_zone;
      query = query.where(inSubtrees('zones.path', [zone.path]));
    }
    const fromMs = opts.fromMs ?? parseInstant(q.from, 'from');
    const toMs = opts.toMs ?? parseInstant(q.to, 'to');
    if (fromMs !== undefined) query = query.where('as_run.at', '>=', new Date(fromMs));
    if (toMs !== undefined) query = query.where('as_run.at', '<', new Date(toMs));
    if (q.kind !== undefined) query = query.where('as_run.kind', '=', q.kind);
    if (opts.after) query = query.where(sql<SqlBool>`(as_run.at, as_run.id) > (${new Date(opts.after.atMs)}, ${opts.after.id})`);
    const rows = await query.orderBy('as_run.at').orderBy('as_run.id').limit(opts.limit).execute();
    return { rows, timeZone };
  }

  app.get(
    '/as-run',
    {
      schema: {
        tags: ['as-run'],
        description: 'What really played, oldest first. Page with `cursor` (the `nextCursor` of the previous page).',
        querystring: Type.Object({
          ...Filters,
          limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: `rows per page, 1–${MAX_LIMIT} (default ${DEFAULT_LIMIT})` })),
          cursor: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(AsRunItemSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const limit = Math.min(MAX_LIMIT, request.query.limit !== undefined ? Number(request.query.limit) : DEFAULT_LIMIT);
      const after = request.query.cursor !== undefined ? decodeCursor(request.query.cursor) : undefined;
      const { rows } = await select(request.auth, request.query, { limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          id: String(r.id),
          zoneId: r.zone_id,
          programme: r.programme,
          kind: r.kind,
          programmeId: r.programme_id,
          entryId: r.entry_id,
          airingId: r.airing_id,
          event: r.event,
          reason: r.reason,
          at: utcMsToIsoWithOffset(r.at.getTime(), r.time_zone),
          mediaPositionMs: r.media_position_ms,
          by: r.by,
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ atMs: last.at.getTime(), id: Number(last.id) }) : null,
      };
    },
  );

  app.get(
    '/as-run.csv',
    {
      schema: {
        tags: ['as-run'],
        description: `The same rows as CSV (UTF-8 with BOM, RFC 4180), headers in the caller's language; at most ${MAX_CSV_ROWS} rows.`,
        produces: ['text/csv'],
        querystring: Type.Object(Filters),
        response: { 200: Type.String({ description: 'text/csv' }), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { rows, timeZone } = await select(request.auth, request.query, { limit: MAX_CSV_ROWS });
      const header = translate(requestLang(request, config), 'as_run_csv_header').split(',');
      reply.header('content-disposition', 'attachment; filename="as-run.csv"');
      reply.type('text/csv; charset=utf-8');
      return asRunToCsv(rows.map(dbRowToAsRun), { timeZone, header });
    },
  );

  app.get(
    '/as-run/stats',
    {
      schema: {
        tags: ['as-run'],
        description: 'Hours on air per zone per month of the year, by programme kind (months of the zone’s time zone).',
        querystring: Type.Object({ year: Type.String({ pattern: '^2[0-9]{3}$', description: 'e.g. 2026' }), zoneId: Filters.zoneId }),
        response: {
          200: Type.Object({
            year: Type.Integer(),
            timeZone: Type.String(),
            stats: Type.Array(
              Type.Object({ zoneId: Type.String(), month: Type.String(), hoursByKind: Type.Record(Type.String(), Type.Number()), totalHours: Type.Number() }),
            ),
            anomalies: Type.Integer({ description: 'rows that did not pair up (e.g. an end without a start)' }),
            open: Type.Integer({ description: 'programmes still on air (counted up to now)' }),
          }),
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => {
      const year = Number(request.query.year);
      const zoneId = request.query.zoneId;
      const tz = zoneId !== undefined ? (await request.auth.requireZone('read', zoneId)).time_zone : config.timezone;
      const yearStart = Temporal.PlainDate.from({ year, month: 1, day: 1 }).toZonedDateTime({ timeZone: tz }).epochMilliseconds;
      const yearEnd = Temporal.PlainDate.from({ year: year + 1, month: 1, day: 1 }).toZonedDateTime({ timeZone: tz }).epochMilliseconds;
      const { rows } = await select(request.auth, { zoneId }, { limit: 10_000_000, fromMs: yearStart - STATS_LOOKBACK_MS, toMs: yearEnd });
      const report = monthlyStats(rows.map(dbRowToAsRun), { timeZone: tz, openUntilUtcMs: Math.min(Date.now(), yearEnd) });
      const prefix = `${String(year).padStart(4, '0')}-`;
      return { year, timeZone: tz, stats: report.stats.filter((s) => s.month.startsWith(prefix)), anomalies: report.anomalies, open: report.open };
    },
  );
};

export default asRunRoutes;
