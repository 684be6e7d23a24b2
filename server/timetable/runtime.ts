// The timetable and the as-run log started together by main.ts: the recorder first (so that
// what the timetable puts back on air at startup is logged), then the service. close() in the
// reverse order, before the engine and the database close.
import type { BroadcastHost } from '../broadcast/engine-host.js';
import type { LoaConfig } from '../config.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../logger.js';
import { startAsRunRecorder, type AsRunRecorder } from '../as-run/recorder.js';
import { startTimetableService, type TimetableService } from './service.js';

export interface TimetableRuntime {
  timetable: TimetableService;
  asRun: AsRunRecorder;
  close(): Promise<void>;
}

export async function startTimetables(ctx: {
  config: LoaConfig;
  database: Database;
  logger: Logger;
  broadcast: BroadcastHost;
  /** A recorder already started (main.ts, before the database opened); the runtime closes it. */
  asRun?: AsRunRecorder;
  /** Runs once the as-run log listens, before the timetable starts (main.ts: programmes of the previous run back on air). */
  beforeTimetable?: () => Promise<void>;
}): Promise<TimetableRuntime> {
  const asRun = ctx.asRun ?? await startAsRunRecorder({ engine: ctx.broadcast.engine, catalog: ctx.broadcast.catalog, database: ctx.database, config: ctx.config, logger: ctx.logger });
  let timetable: TimetableService;
  try {
    await ctx.beforeTimetable?.();
    timetable = await startTimetableService({ database: ctx.database, config: ctx.config, logger: ctx.logger, broadcast: ctx.broadcast });
  } catch (err) {
    await asRun.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    timetable,
    asRun,
    close: () =>
      (closing ??= (async () => {
        timetable.close();
        await asRun.close();
      })()),
  };
}
