// Brings the schema to the latest migration. Runs at every start; kysely's Migrator takes a
// lock so that two servers starting against one PostgreSQL do not migrate twice.
import { Migrator } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './types.js';

export async function migrateToLatest(database: Database): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed ?? ''} failed: ${reason}`.replace('  ', ' '));
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
