// The migrations, listed in code so that they resolve the same under tsx and compiled
// (no directory scanning). To add one: write 000N_name.ts with up()/down() and list it here;
// names sort in the order they run.
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_broadcast.js';
import * as m0003 from './0003_timetables.js';
import * as m0004 from './0004_multicast_ttl.js';
import * as m0005 from './0005_alerts.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001,
  '0002_broadcast': m0002,
  '0003_timetables': m0003,
  '0004_multicast_ttl': m0004,
  '0005_alerts': m0005,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
