// Timetables: CRUD of entries (TypeBox for the shape, scheduler/validateEntry for the meaning,
// one transaction per write), a dry-run conflict report, and the planned airings. An operator
// edits only entries whose every zone lies in their subtree; edits reach the running timetable
// service at once through the change feed (no restart, nothing on air interrupted unless the
// edit touches that very airing).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { randomBase32 } from '../ids.js';
import type { ApiDeps } from '../app.js';
import type { AuthContext } from '../auth/context.js';
import { grantRoots } from '../auth/permissions.js';
import { validateEntry, type TimetableEntry, type TimetableEntryInput } from '../../scheduler/timetable-entry.js';
import { findConflicts } from '../../scheduler/conflicts.js';
import { expandEntry } from '../../scheduler/recurrence.js';
import { airingFromOccurrence } from '../../scheduler/planner.js';
import { priorityValue, PRIORITY } from '../../domain/priority.js';
import { EntryStore, type StoredEntry } from '../timetable/entry-store.js';
import { timetableChanges } from '../timetable/changes.js';
import { TimetableError, installTimetableErrors, invalidEntry } from '../timetable/errors.js';
import {
  AiringSchema,
  ConflictSchema,
  EntryBodySchema,
  EntrySchema,
  EntryUpdateSchema,
  airingDto,
  conflictDto,
  entryDto,
  type AiringDto,
  type ConflictDto,
  type EntryBody,
} from '../timetable/schemas.js';
import { IdParams, errors } from './schemas.js';

const DAY_MS = 86_400_000;
/** How far ahead the conflicts of a new or edited entry are looked for. */
export const CONFLICT_WINDOW_MS = 14 * DAY_MS;
const MAX_AIRINGS_WINDOW_MS = 31 * DAY_MS;

export function newEntryId(): string {
  return `tte_${randomBase32()}`;
}

const FieldErrors = Type.Object({
  error: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});
const WindowQuery = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 with offset; default now' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 with offset' })),
};

function parseWindow(from: string | undefined, to: string | undefined, defaultSpanMs: number, maxSpanMs: number): { fromMs: number; toMs: number } {
  const fromMs = from === undefined ? Date.now() : Date.parse(from);
  const toMs = to === undefined ? fromMs + defaultSpanMs : Date.parse(to);
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw new TimetableError(400, 'validation', 'bad_time_range', { detail: 'from/to must be ISO 8601 date-times' });
  if (toMs <= fromMs) throw new TimetableError(400, 'validation', 'bad_time_range', { detail: '“to” must be after “from”' });
  if (toMs - fromMs > maxSpanMs) throw new TimetableError(400, 'validation', 'bad_time_range', { detail: `at most ${Math.round(maxSpanMs / DAY_MS)} days` });
  return { fromMs, toMs };
}

const timetableRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database, config }) => {
  const store = new EntryStore(database.db);
  const db = store.db;
  const feed = timetableChanges(database.db);
  installTimetableErrors(app, config);

  /**
   * Zones the entry targets, each checked: invisible → 404, not manageable → 403. The emergency
   * level needs the emergency right on every zone. Returns the time zone of the first zone.
   */
  async function checkZones(auth: AuthContext, zoneIds: readonly string[], priority: number): Promise<string> {
    let timeZone: string | undefined;
    for (const id of zoneIds) {
      const zone = await auth.requireZone('timetables.manage', id);
      timeZone ??= zone.time_zone;
      if (priority >= PRIORITY.emergency && !auth.can('playback.emergency', zone)) {
        throw new TimetableError(403, 'forbidden', 'timetable_emergency');
      }
    }
    return timeZone ?? config.timezone;
  }

  /** Media the programme names must exist where the caller can read them. */
  async function checkMedia(auth: AuthContext, entry: TimetableEntry): Promise<void> {
    const p = entry.programme;
    const ids = p.kind === 'media' ? [p.mediaId] : p.kind === 'playlist' ? p.mediaIds : [];
    if (ids.length === 0) return;
    const rows = await db
      .selectFrom('media')
      .innerJoin('zones', 'zones.id', 'media.zone_id')
      .select('media.id')
      .where('media.id', 'in', [...new Set(ids)])
      .where(auth.zoneFilter('read'))
      .execute();
    const found = new Set(rows.map((r) => r.id));
    const errs = ids
      .map((id, i) => ({ id, i }))
      .filter(({ id }) => !found.has(id))
      .map(({ id, i }) => ({
        field: p.kind === 'media' ? 'programme.mediaId' : `programme.mediaIds[${i}]`,
        message: `unknown media item “${id}” (not in the library, or not in your zones)`,
      }));
    if (errs.length > 0) throw invalidEntry(errs);
  }

  /** The body checked for meaning, as the scheduler's entry. */
  async function toEntry(auth: AuthContext, id: string, body: EntryBody, createdBy: string): Promise<TimetableEntry> {
    const priority = priorityValue(body.priority);
    const zoneTimeZone = await checkZones(auth, body.zoneIds, priority);
    const input: TimetableEntryInput = {
      id,
      zoneIds: body.zoneIds,
      programme: body.programme,
      priority,
      timeZone: body.timeZone ?? zoneTimeZone,
      start: body.start,
      recurrence: body.recurrence ?? null,
      durationMs: body.durationMs ?? null,
      end: body.end ?? null,
      maxDurationMs: body.maxDurationMs ?? null,
      repeat: body.repeat ?? null,
      validFrom: body.validFrom ?? null,
      validUntil: body.validUntil ?? null,
      enabled: body.enabled ?? true,
      policy: body.policy ?? 'cut-in',
      createdBy,
    };
    const r = validateEntry(input);
    if (!r.ok) throw invalidEntry(r.errors);
    await checkMedia(auth, r.entry);
    return r.entry;
  }

  /** An entry the caller may read (404 otherwise); with `manage`, one they may edit (403). */
  async function requireEntry(auth: AuthContext, id: string, manage: boolean): Promise<StoredEntry> {
    const stored = await store.get(id);
    if (!stored) throw new TimetableError(404, 'not_found', 'timetable_not_found', { id });
    const zones = stored.entry.zoneIds.length ? await db.selectFrom('zones').select(['id', 'path']).where('id', 'in', stored.entry.zoneIds).execute() : [];
    // An entry whose zones were all deleted is left to system-wide users (to clean up).
    const visible = zones.length === 0 ? auth.isGlobal('read') : zones.some((z) => auth.can('read', z));
    if (!visible) throw new TimetableError(404, 'not_found', 'timetable_not_found', { id });
    if (manage) {
      if (zones.length === 0) auth.require('timetables.manage', null);
      for (const z of zones) auth.require('timetables.manage', z);
    }
    return stored;
  }

  async function conflictsOf(candidate: TimetableEntry, fromMs: number, toMs: number): Promise<ConflictDto[]> {
    const [all, zones] = await Promise.all([store.all(), db.selectFrom('zones').select(['id', 'parent_id']).execute()]);
    const report = findConflicts({
      entries: all.map((s) => s.entry),
      candidate,
      zones: zones.map((z) => ({ id: z.id, parentId: z.parent_id })),
      fromUtcMs: fromMs,
      toUtcMs: toMs,
    });
    return report.overlaps.map((o) => conflictDto(o, candidate.timeZone));
  }

  const conflictsAhead = (entry: TimetableEntry) => {
    const now = Date.now();
    return conflictsOf(entry, now, now + CONFLICT_WINDOW_MS);
  };

  const EntryWithConflicts = Type.Object({ entry: EntrySchema, conflicts: Type.Array(ConflictSchema) });

  app.get(
    '/timetables',
    {
      schema: {
        tags: ['timetables'],
        querystring: Type.Object({ zoneId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
        response: { 200: Type.Object({ items: Type.Array(EntrySchema) }), ...errors(401, 404) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const zonePath = request.query.zoneId ? (await auth.requireZone('read', request.query.zoneId)).path : undefined;
      const roots = grantRoots(auth.grants, 'read');
      const items = await store.visible(roots, { zonePath });
      return { items: items.map(entryDto) };
    },
  );

  app.get(
    '/timetables/airings',
    {
      schema: {
        tags: ['timetables'],
        description: 'Planned airings of the entries the caller can see, in [from, to) (default: the next 24 h, at most 31 days).',
        querystring: Type.Object({ zoneId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), ...WindowQuery }),
        response: { 200: Type.Object({ items: Type.Array(AiringSchema) }), ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const { fromMs, toMs } = parseWindow(request.query.from, request.query.to, DAY_MS, MAX_AIRINGS_WINDOW_MS);
      const zonePath = request.query.zoneId ? (await auth.requireZone('read', request.query.zoneId)).path : undefined;
      const roots = grantRoots(auth.grants, 'read');
      const items: { startMs: number; dto: AiringDto }[] = [];
      for (const s of await store.visible(roots, { zonePath })) {
        for (const o of expandEntry(s.entry, fromMs, toMs)) {
          const a = airingFromOccurrence(s.entry, o);
          items.push({ startMs: a.startUtcMs, dto: airingDto(a, s.title, s.entry.timeZone) });
        }
      }
      items.sort((x, y) => x.startMs - y.startMs || (x.dto.airingId < y.dto.airingId ? -1 : 1));
      return { items: items.map((x) => x.dto) };
    },
  );

  app.get(
    '/timetables/:id',
    { schema: { tags: ['timetables'], params: IdParams, response: { 200: EntrySchema, ...errors(401, 404) } } },
    async (request) => entryDto(await requireEntry(request.auth, request.params.id, false)),
  );

  app.post(
    '/timetables/conflicts',
    {
      schema: {
        tags: ['timetables'],
        description: 'Dry run: which airings of the candidate entry overlap others, per zone, and who gets the air. Nothing is saved.',
        body: Type.Object({ entry: EntryBodySchema, id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the entry being edited, if any' })), ...WindowQuery }, { additionalProperties: false }),
        response: { 200: Type.Object({ conflicts: Type.Array(ConflictSchema) }), 422: FieldErrors, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const { fromMs, toMs } = parseWindow(request.body.from, request.body.to, CONFLICT_WINDOW_MS, 366 * DAY_MS);
      let id = newEntryId();
      let createdBy = auth.user.id;
      if (request.body.id !== undefined) {
        const existing = await requireEntry(auth, request.body.id, false);
        id = existing.entry.id;
        createdBy = existing.entry.createdBy;
      }
      const candidate = await toEntry(auth, id, request.body.entry, createdBy);
      return { conflicts: await conflictsOf(candidate, fromMs, toMs) };
    },
  );

  app.post(
    '/timetables',
    {
      schema: {
        tags: ['timetables'],
        body: EntryBodySchema,
        response: { 201: EntryWithConflicts, 422: FieldErrors, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      const entry = await toEntry(auth, newEntryId(), request.body, auth.user.id);
      const stored = await db.transaction().execute((tx) => store.insert(tx, entry, request.body.title ?? null));
      feed.emit('upsert', stored);
      request.log.info({ entryId: entry.id, zones: entry.zoneIds }, 'timetable entry created');
      return reply.status(201).send({ entry: entryDto(stored), conflicts: await conflictsAhead(stored.entry) });
    },
  );

  app.put(
    '/timetables/:id',
    {
      schema: {
        tags: ['timetables'],
        params: IdParams,
        body: EntryUpdateSchema,
        response: { 200: EntryWithConflicts, 422: FieldErrors, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const existing = await requireEntry(auth, request.params.id, true);
      const { version, ...body } = request.body;
      const entry = await toEntry(auth, existing.entry.id, body, existing.entry.createdBy);
      const stored = await db.transaction().execute(async (tx) => {
        const s = await store.update(tx, entry, body.title === undefined ? existing.title : body.title, version);
        if (!s) {
          const now = await store.get(entry.id, tx);
          if (!now) throw new TimetableError(404, 'not_found', 'timetable_not_found', { id: entry.id });
          throw new TimetableError(409, 'conflict_version', 'timetable_version', { version: now.version });
        }
        return s;
      });
      feed.emit('upsert', stored);
      request.log.info({ entryId: entry.id, version: stored.version }, 'timetable entry updated');
      return { entry: entryDto(stored), conflicts: await conflictsAhead(stored.entry) };
    },
  );

  app.delete(
    '/timetables/:id',
    { schema: { tags: ['timetables'], params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (request, reply) => {
      const existing = await requireEntry(request.auth, request.params.id, true);
      await db.transaction().execute((tx) => store.delete(tx, existing.entry.id));
      feed.emit('remove', existing.entry.id);
      request.log.info({ entryId: existing.entry.id }, 'timetable entry deleted');
      return reply.status(204).send(null);
    },
  );
};

export default timetableRoutes;
