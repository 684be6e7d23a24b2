/**
 * One programme inside the engine: a source wanting air on some zones at a
 * priority. The zones it covers are split into lanes; each lane owns one
 * source instance and is pulled once per frame however many zones hear it.
 * Lanes start as one; when some zones of a lane hear the programme and others
 * do not (preempted there), the unheard zones move to a new lane with a fork
 * of the source, so each keeps its own position (per-zone read-head) while
 * zones in step share one lane. Forking is O(1) and never waits (see
 * sources/source.ts), so a preemption delays no other zone's frames.
 */
import { FRAME_MS, newFrame, type Frame } from '../codecs/pcm.js';
import type { EndReason } from './protocol.js';
import type { PullResult, Source } from './sources/source.js';

export type ZoneProgrammeState = 'waiting' | 'on-air' | 'preempted' | 'ended';

export class Lane {
  readonly zones = new Set<string>();
  readonly frame: Frame = newFrame();
  /** Frame number last pulled into `frame` (-1: never). */
  pulledAt = -1;
  result: PullResult = 'silence';
  ended = false;
  /** Source position at the start of the last pulled frame. */
  positionBefore = 0;

  constructor(readonly source: Source) {}

  pull(n: number): void {
    if (this.pulledAt === n || this.ended) return;
    this.pulledAt = n;
    this.positionBefore = this.source.positionMs;
    this.result = this.source.pull(this.frame);
    if (this.result === 'ended') this.ended = true;
  }

  close(): void {
    this.source.close();
  }
}

export interface ProgrammeOptions {
  id: string;
  priority: number;
  /** Arrival order: bigger is newer (newest-wins at emergency level). */
  seq: number;
  targets: readonly string[];
  source: Source;
  maxDurationMs?: number;
  /** First frame the programme may air (from startAt); undefined: as soon as ready. */
  startFrame?: number;
  /** Frame of the play command (to give up waiting for a slow prefetch). */
  createdFrame: number;
}

export class Programme {
  readonly id: string;
  readonly priority: number;
  readonly seq: number;
  readonly targets: readonly string[];
  readonly maxDurationMs: number | undefined;
  readonly startFrame: number | undefined;
  readonly createdFrame: number;
  state: 'pending' | 'running' | 'ended' = 'pending';
  /** Frame it started on (running). */
  startedFrame = -1;
  endReason: EndReason | undefined;
  endMessage: string | undefined;
  readonly lanes: Lane[] = [];
  private readonly laneOf = new Map<string, Lane>();
  readonly zoneState = new Map<string, ZoneProgrammeState>();

  constructor(opts: ProgrammeOptions) {
    this.id = opts.id;
    this.priority = opts.priority;
    this.seq = opts.seq;
    this.targets = opts.targets;
    this.maxDurationMs = opts.maxDurationMs;
    this.startFrame = opts.startFrame;
    this.createdFrame = opts.createdFrame;
    this.lanes.push(new Lane(opts.source));
  }

  get source(): Source {
    return this.lanes[0].source;
  }

  /** Frame at which max-duration ends it (Infinity if none). */
  get endFrame(): number {
    if (this.maxDurationMs === undefined || this.startedFrame < 0) return Infinity;
    return this.startedFrame + Math.max(1, Math.round(this.maxDurationMs / FRAME_MS));
  }

  laneFor(zone: string): Lane | undefined {
    return this.laneOf.get(zone);
  }

  /** Adds a zone (bus) that this programme covers; it joins the lane furthest along. */
  addZone(zone: string): void {
    if (this.laneOf.has(zone)) return;
    let best: Lane | undefined;
    for (const l of this.lanes) if (!l.ended && (!best || l.source.positionMs > best.source.positionMs)) best = l;
    if (!best) {
      this.zoneState.set(zone, 'ended');
      return;
    }
    best.zones.add(zone);
    this.laneOf.set(zone, best);
    if (!this.zoneState.has(zone)) this.zoneState.set(zone, 'waiting');
  }

  removeZone(zone: string): void {
    const lane = this.laneOf.get(zone);
    if (!lane) return;
    lane.zones.delete(zone);
    this.laneOf.delete(zone);
    this.zoneState.delete(zone);
    if (lane.zones.size === 0 && this.lanes.length > 1) this.dropLane(lane);
  }

  /** True if the programme can still air in this zone. */
  airsIn(zone: string): boolean {
    const lane = this.laneOf.get(zone);
    return lane !== undefined && !lane.ended && this.state === 'running' && this.zoneState.get(zone) !== 'ended';
  }

  /**
   * Pulls the lanes for frame n, given which zones hear this programme.
   * Unheard zones of a heard lane are forked off first (before the pull, so
   * the fork continues from this frame). Live lanes are pulled regardless.
   */
  pullFor(n: number, hears: (zone: string) => boolean): void {
    for (let i = 0; i < this.lanes.length; i++) {
      const lane = this.lanes[i];
      if (lane.ended || lane.pulledAt === n) continue;
      let heard = 0;
      for (const z of lane.zones) if (hears(z)) heard++;
      if (heard === 0 && !lane.source.live) continue;
      if (heard < lane.zones.size && !lane.source.live) {
        const fork = new Lane(lane.source.fork());
        fork.source.prepare();
        for (const z of [...lane.zones]) {
          if (hears(z)) continue;
          lane.zones.delete(z);
          fork.zones.add(z);
          this.laneOf.set(z, fork);
        }
        this.lanes.push(fork);
      }
      lane.pull(n);
    }
  }

  /** Lanes that ended (source done or failed) and still hold zones. */
  *endedLanes(): Generator<Lane> {
    for (const l of this.lanes) if (l.ended && l.zones.size > 0) yield l;
  }

  /** An ended lane lets go of its zones (they no longer air this programme); kept for `exhausted`. */
  dropLaneZones(lane: Lane): void {
    for (const z of lane.zones) this.laneOf.delete(z);
    lane.zones.clear();
  }

  dropLane(lane: Lane): void {
    for (const z of lane.zones) this.laneOf.delete(z);
    lane.zones.clear();
    lane.close();
    const i = this.lanes.indexOf(lane);
    if (i >= 0) this.lanes.splice(i, 1);
  }

  /** True once no lane can produce anything more. */
  get exhausted(): boolean {
    return this.lanes.every((l) => l.ended);
  }

  close(): void {
    for (const l of this.lanes) l.close();
  }
}
