/**
 * The real media plane (worker thread, real clock, real sockets) for interop
 * tests: started once, every event recorded, closed on teardown, and a way
 * to wait for one particular event.
 */
import { Engine, type EngineStartOptions } from '../../../engine/engine.js';
import type { EngineEvent, ErrorEvent } from '../../../engine/protocol.js';

export interface RecordedEngine {
  engine: Engine;
  events: EngineEvent[];
  errors(): ErrorEvent[];
  /** Resolves with the first event (past or future) that matches; rejects after timeoutMs. */
  waitFor<E extends EngineEvent>(what: string, match: (e: EngineEvent) => e is E, timeoutMs?: number): Promise<E>;
}

export async function startEngine(opts: Partial<EngineStartOptions> = {}): Promise<RecordedEngine> {
  const engine = await Engine.start({ rtpPort: 0, rtpHost: '127.0.0.1', statsIntervalMs: 0, ...opts });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  return {
    engine,
    events,
    errors: () => events.filter((e): e is ErrorEvent => e.type === 'error'),
    waitFor(what, match, timeoutMs = 15_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          engine.off('event', on);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const on = (e: EngineEvent): void => {
          if (!match(e)) return;
          clearTimeout(timer);
          engine.off('event', on);
          resolve(e);
        };
        engine.on('event', on);
      });
    },
  };
}

export function isProgrammeEnded(programmeId: string) {
  return (e: EngineEvent): e is Extract<EngineEvent, { type: 'programmeEnded' }> => e.type === 'programmeEnded' && e.programmeId === programmeId;
}

export function isZoneState(programmeId: string, zoneId: string, state: 'on-air' | 'preempted' | 'resumed' | 'ended') {
  return (e: EngineEvent): e is Extract<EngineEvent, { type: 'programme' }> =>
    e.type === 'programme' && e.programmeId === programmeId && e.zoneId === zoneId && e.state === state;
}
