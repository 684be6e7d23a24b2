// A last net under "no database error ends the process": a promise that rejects with a
// connection-class error (db/unavailable.ts) and that nobody awaited — a fire-and-forget write
// somewhere — is logged instead of crashing the server, which would silence every zone. Any other
// unhandled rejection still ends the process as Node does by default: it is a bug to see.
import type { Logger } from '../logger.js';
import { isDatabaseUnavailable, unavailableReason } from './unavailable.js';

let installed = false;

export function guardDatabaseRejections(logger: Logger): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    if (isDatabaseUnavailable(reason)) {
      logger.warn({ reason: unavailableReason(reason) }, 'a database operation failed while the database was away (nobody waited for it)');
      return;
    }
    throw reason;
  });
}
