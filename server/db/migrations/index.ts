// The migrations, listed in code so that they resolve the same under tsx and compiled
// (no directory scanning). To add one: write 000N_name.ts with up()/down() and list it here;
// names sort in the order they run.
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_foundation.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
