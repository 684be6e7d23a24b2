/**
 * What each zone is airing right now, kept from the engine's per-zone
 * 'programme' events (on-air / preempted / resumed / ended). Reading it costs
 * nothing: GET /on-air never asks the media worker.
 *
 * Only zones that have a bus in the engine (leaf zones and zones with attached
 * endpoints) ever get events; any other zone reads as silent.
 */
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';

export interface ZoneAir {
  programmeId: string;
  /** Wall-clock epoch ms of the frame where the programme took (or took back) the air. */
  sinceMs: number;
  /** Media position of the programme in this zone at `sinceMs`. */
  positionAtSinceMs: number;
}

export interface ZoneAirNow extends ZoneAir {
  /** Media position now (extrapolated: audio runs at one ms per ms while on air). */
  positionMs: number;
}

export class OnAirBoard {
  private readonly zones = new Map<string, ZoneAir>();
  /** Events applied, for diagnostics. */
  events = 0;

  /** Feed every engine 'programme' event here, in order. */
  apply(e: ProgrammeZoneEvent): void {
    this.events++;
    switch (e.state) {
      case 'on-air':
      case 'resumed':
        this.zones.set(e.zoneId, { programmeId: e.programmeId, sinceMs: e.atMs, positionAtSinceMs: e.positionMs });
        return;
      case 'preempted':
      case 'ended':
        // The successor's on-air event may come first or second in a frame: only clear our own entry.
        if (this.zones.get(e.zoneId)?.programmeId === e.programmeId) this.zones.delete(e.zoneId);
        return;
    }
  }

  /** The programme on air in a zone, or null when it is silent (or has no bus). */
  get(zoneId: string, nowMs: number = Date.now()): ZoneAirNow | null {
    const z = this.zones.get(zoneId);
    if (!z) return null;
    return { ...z, positionMs: Math.max(0, Math.round(z.positionAtSinceMs + (nowMs - z.sinceMs))) };
  }

  /** Zones where this programme is heard now. */
  zonesOf(programmeId: string): string[] {
    const out: string[] = [];
    for (const [zone, z] of this.zones) if (z.programmeId === programmeId) out.push(zone);
    return out;
  }

  /** Forgets zones that no longer exist (after a zone tree change). */
  retain(zoneIds: ReadonlySet<string>): void {
    for (const zone of this.zones.keys()) if (!zoneIds.has(zone)) this.zones.delete(zone);
  }

  clear(): void {
    this.zones.clear();
  }
}
