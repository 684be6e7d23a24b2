// API shapes of timetable entries, planned airings and conflict reports, and the mapping from
// the scheduler's values to them. Local wall-clock fields are shown as written, in the entry's
// time zone; instants as ISO 8601 with that zone's offset.
import { Type, type Static } from '@sinclair/typebox';
import type { Airing } from '../../scheduler/planner.js';
import type { Overlap } from '../../scheduler/conflicts.js';
import { firstOccurrenceUtcMs } from '../../scheduler/recurrence.js';
import { utcMsToIsoWithOffset } from '../../scheduler/local-time.js';
import { PRIORITY_NAMES } from '../../domain/priority.js';
import type { StoredEntry } from './entry-store.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const IsoOffset = Type.String({ description: 'ISO 8601 instant with the offset of the entry’s time zone, e.g. 2026-11-23T05:30:00+07:00' });

export const ProgrammeSchema = Type.Union([
  Type.Object({ kind: Type.Literal('media'), mediaId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('playlist'), mediaIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 }) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('relay'), url: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
]);

export const PrioritySchema = Type.Union([
  Type.Integer({ minimum: 0, maximum: 1000 }),
  ...PRIORITY_NAMES.map((n) => Type.Literal(n)),
]);

const RecurrenceSchema = Type.Object(
  {
    rrule: Type.String({ minLength: 1, maxLength: 1000, description: 'RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR' }),
    exdates: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 1000 })),
    rdates: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

const RepeatSchema = Type.Object({ count: Type.Integer(), intervalMs: Type.Integer() }, { additionalProperties: false });

/** What a client sends to create or replace an entry; the semantic checks are scheduler/validateEntry's. */
export const EntryBodySchema = Type.Object(
  {
    zoneIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 10_000 }),
    programme: ProgrammeSchema,
    priority: PrioritySchema,
    title: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone; default the first zone’s' })),
    start: Type.String({ minLength: 1, maxLength: 40, description: 'local date-time of the first airing, e.g. 2026-11-23T05:30' }),
    recurrence: Type.Optional(Nullable(Type.Union([Type.String({ minLength: 1, maxLength: 1000 }), RecurrenceSchema]))),
    durationMs: Type.Optional(Nullable(Type.Integer())),
    end: Type.Optional(Nullable(Type.String({ maxLength: 40, description: 'local time (17:30) or date-time' }))),
    maxDurationMs: Type.Optional(Nullable(Type.Integer())),
    repeat: Type.Optional(Nullable(RepeatSchema)),
    validFrom: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
    validUntil: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
    enabled: Type.Optional(Type.Boolean()),
    policy: Type.Optional(Type.Union([Type.Literal('cut-in'), Type.Literal('wait')])),
  },
  { additionalProperties: false },
);
export type EntryBody = Static<typeof EntryBodySchema>;

export const EntryUpdateSchema = Type.Composite([
  EntryBodySchema,
  Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, description: 'the version you edited; 409 if it changed since' })) }),
], { additionalProperties: false });

export const EntrySchema = Type.Object({
  id: Type.String(),
  title: Nullable(Type.String()),
  zoneIds: Type.Array(Type.String()),
  programme: ProgrammeSchema,
  priority: Type.Integer(),
  timeZone: Type.String(),
  start: Type.String({ description: 'local, as written' }),
  firstAiringAt: Nullable(IsoOffset),
  recurrence: Nullable(Type.Object({ rrule: Type.String(), exdates: Type.Array(Type.String()), rdates: Type.Array(Type.String()) })),
  durationMs: Nullable(Type.Integer()),
  end: Nullable(Type.String()),
  maxDurationMs: Nullable(Type.Integer()),
  repeat: Nullable(RepeatSchema),
  validFrom: Nullable(Type.String()),
  validUntil: Nullable(Type.String()),
  enabled: Type.Boolean(),
  policy: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  version: Type.Integer(),
});
export type EntryDto = Static<typeof EntrySchema>;

export function entryDto(s: StoredEntry): EntryDto {
  const e = s.entry;
  const first = firstOccurrenceUtcMs(e);
  return {
    id: e.id,
    title: s.title,
    zoneIds: e.zoneIds,
    programme: e.programme,
    priority: e.priority,
    timeZone: e.timeZone,
    start: e.start,
    firstAiringAt: first === null ? null : utcMsToIsoWithOffset(first, e.timeZone),
    recurrence: e.recurrence,
    durationMs: e.durationMs,
    end: e.end,
    maxDurationMs: e.maxDurationMs,
    repeat: e.repeat,
    validFrom: e.validFrom,
    validUntil: e.validUntil,
    enabled: e.enabled,
    policy: e.policy,
    createdBy: e.createdBy,
    createdAt: utcMsToIsoWithOffset(s.createdAt.getTime(), e.timeZone),
    updatedAt: utcMsToIsoWithOffset(s.updatedAt.getTime(), e.timeZone),
    version: s.version,
  };
}

const ConflictAiringSchema = Type.Object({
  entryId: Type.String(),
  priority: Type.Integer(),
  policy: Type.String(),
  start: IsoOffset,
  end: IsoOffset,
  endAssumed: Type.Boolean({ description: 'the entry has no end: its maxDurationMs or 30 min was assumed' }),
});

export const ConflictSchema = Type.Object({
  zoneIds: Type.Array(Type.String(), { description: 'highest zones where both meet' }),
  leafZoneIds: Type.Array(Type.String()),
  from: IsoOffset,
  to: IsoOffset,
  first: ConflictAiringSchema,
  second: ConflictAiringSchema,
  winnerEntryId: Type.String(),
  loserEntryId: Type.String(),
  outcome: Type.Union([Type.Literal('preempts'), Type.Literal('waits'), Type.Literal('held')]),
  shiftedStart: Type.Optional(IsoOffset),
  resumesAt: Type.Optional(IsoOffset),
});
export type ConflictDto = Static<typeof ConflictSchema>;

export function conflictDto(o: Overlap, timeZone: string): ConflictDto {
  const iso = (ms: number) => utcMsToIsoWithOffset(ms, timeZone);
  const side = (a: Overlap['first']) => ({
    entryId: a.entryId,
    priority: a.priority,
    policy: a.policy,
    start: iso(a.startUtcMs),
    end: iso(a.endUtcMs),
    endAssumed: a.endAssumed,
  });
  const dto: ConflictDto = {
    zoneIds: o.zoneIds,
    leafZoneIds: o.leafZoneIds,
    from: iso(o.fromUtcMs),
    to: iso(o.toUtcMs),
    first: side(o.first),
    second: side(o.second),
    winnerEntryId: o.winnerEntryId,
    loserEntryId: o.loserEntryId,
    outcome: o.outcome,
  };
  if (o.shiftedStartUtcMs !== undefined) dto.shiftedStart = iso(o.shiftedStartUtcMs);
  if (o.resumesAtUtcMs !== undefined) dto.resumesAt = iso(o.resumesAtUtcMs);
  return dto;
}

export const AiringSchema = Type.Object({
  airingId: Type.String(),
  entryId: Type.String(),
  title: Nullable(Type.String()),
  zoneIds: Type.Array(Type.String()),
  programme: ProgrammeSchema,
  priority: Type.Integer(),
  policy: Type.String(),
  start: IsoOffset,
  end: Nullable(IsoOffset),
  maxDurationMs: Nullable(Type.Integer()),
});
export type AiringDto = Static<typeof AiringSchema>;

export function airingDto(a: Airing, title: string | null, timeZone: string): AiringDto {
  return {
    airingId: a.airingId,
    entryId: a.entryId,
    title,
    zoneIds: a.zoneIds,
    programme: a.programme,
    priority: a.priority,
    policy: a.policy,
    start: utcMsToIsoWithOffset(a.startUtcMs, timeZone),
    end: a.endUtcMs === undefined ? null : utcMsToIsoWithOffset(a.endUtcMs, timeZone),
    maxDurationMs: a.maxDurationMs ?? null,
  };
}
