// The feed from the timetable API to the timetable service: the API publishes an edit after
// its transaction commits, the service applies it to the running plan at once. The feed is
// found through the database handle both receive, so wiring the API needs nothing but the
// usual plugin options.
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { StoredEntry } from './entry-store.js';

export interface TimetableChangeEvents {
  upsert: [stored: StoredEntry];
  remove: [entryId: string];
}

export class TimetableChanges extends EventEmitter<TimetableChangeEvents> {}

const feeds = new WeakMap<Kysely<never>, TimetableChanges>();

export function timetableChanges(db: Kysely<never> | Kysely<any>): TimetableChanges {
  let feed = feeds.get(db as Kysely<never>);
  if (!feed) feeds.set(db as Kysely<never>, (feed = new TimetableChanges()));
  return feed;
}
