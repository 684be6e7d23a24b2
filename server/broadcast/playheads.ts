/**
 * How far each programme's source has played, kept from the engine's per-zone 'programme'
 * events, so that a programme can be put back on air at its offset after the media worker or
 * the whole server died.
 *
 * A zone that airs the programme moves its playhead at one ms per ms from the event's
 * (atMs, positionMs); a preempted zone holds it. The programme's offset is the furthest zone's
 * (zones preempted apart play separate forks; one offset is all a replay can take, and the one
 * that was heard most recently is the one listeners expect to continue).
 */
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';

/** A programme's playhead as one line: position `positionMs` at `atMs`, advancing while `running`. */
export interface Playhead {
  atMs: number;
  positionMs: number;
  running: boolean;
  /** First frame on air anywhere (maxDurationMs counts from it); undefined until then. */
  firstAirAtMs?: number;
}

interface ZoneHead {
  atMs: number;
  positionMs: number;
  running: boolean;
}

export function playheadPosition(p: Playhead, nowMs: number): number {
  return p.running ? p.positionMs + Math.max(0, nowMs - p.atMs) : p.positionMs;
}

export class PlayheadTracker {
  private readonly zones = new Map<string, Map<string, ZoneHead>>();
  private readonly firstAir = new Map<string, number>();
  /** Added to the engine's positions of a programme replayed from an offset its source cannot seek to (generators restart at 0). */
  private readonly base = new Map<string, number>();
  /** The playhead a replayed programme resumed from, until its new worker reports it. */
  private readonly carried = new Map<string, Playhead>();

  /** Feed every engine 'programme' event here; returns true when the programme's playhead changed. */
  apply(e: ProgrammeZoneEvent): boolean {
    let heads = this.zones.get(e.programmeId);
    if (!heads) this.zones.set(e.programmeId, (heads = new Map()));
    const position = e.positionMs + (this.base.get(e.programmeId) ?? 0);
    switch (e.state) {
      case 'on-air':
      case 'resumed':
        if (!this.firstAir.has(e.programmeId)) this.firstAir.set(e.programmeId, e.atMs);
        heads.set(e.zoneId, { atMs: e.atMs, positionMs: position, running: true });
        return true;
      case 'preempted':
      case 'ended':
        heads.set(e.zoneId, { atMs: e.atMs, positionMs: position, running: false });
        return true;
    }
  }

  /** The programme's playhead, or undefined when no zone ever reported it. */
  get(programmeId: string): Playhead | undefined {
    const heads = this.zones.get(programmeId);
    const firstAirAtMs = this.firstAir.get(programmeId);
    if (!heads || heads.size === 0) return this.carried.get(programmeId);
    const now = Math.max(...[...heads.values()].map((h) => h.atMs));
    let best: ZoneHead | undefined;
    for (const h of heads.values()) {
      const d = best ? playheadPosition(h, now) - playheadPosition(best, now) : 1;
      // Level now, a zone still airing it will be ahead from now on.
      if (d > 0 || (d === 0 && h.running && !best!.running)) best = h;
    }
    return { ...best!, ...(firstAirAtMs !== undefined && { firstAirAtMs }) };
  }

  /** A programme replayed at `offsetMs` with a source that reports positions from 0. */
  setBase(programmeId: string, offsetMs: number, playhead?: Playhead): void {
    this.zones.delete(programmeId);
    if (offsetMs > 0) this.base.set(programmeId, offsetMs);
    else this.base.delete(programmeId);
    if (playhead) this.carried.set(programmeId, playhead);
    else this.carried.delete(programmeId);
    if (playhead?.firstAirAtMs !== undefined) this.firstAir.set(programmeId, playhead.firstAirAtMs);
  }

  forget(programmeId: string): void {
    this.zones.delete(programmeId);
    this.firstAir.delete(programmeId);
    this.base.delete(programmeId);
    this.carried.delete(programmeId);
  }
}
