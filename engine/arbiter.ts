/**
 * Decides, frame by frame, what every zone bus airs. Each bus airs the
 * winner, by the rule of domain/priority.ts, among the running programmes that
 * cover its zone (target the zone or an ancestor).
 * A switch happens at a frame boundary; a programme that ends inside a frame
 * hands the same frame to the next one (no gap).
 *
 * Programme time: maxDurationMs counts from the programme's first frame,
 * whether it is heard or preempted.
 */
import type { Frame } from '../codecs/pcm.js';
import { choose } from '../domain/priority.js';
import { Programme, type Lane, type ProgrammeOptions } from './programme.js';
import type { EndReason, EngineEvent } from './protocol.js';
import { ZoneBus } from './zone-bus.js';
import type { ZoneTree } from '../domain/zone-tree.js';

/** A programme waiting for its prefetch starts anyway after this many frames (5 s). */
export const READY_TIMEOUT_FRAMES = 250;

export interface ArbiterHooks {
  emit(e: EngineEvent): void;
  frameWallMs(n: number): number;
  /** A bus was created / is about to be dropped (streams attach here). */
  busCreated?(bus: ZoneBus): void;
  busDropped?(bus: ZoneBus): void;
}

export class Arbiter {
  readonly buses = new Map<string, ZoneBus>();
  readonly programmes = new Map<string, Programme>();
  /** Zones that need a bus whatever airs (endpoints, multicast, listeners): zone -> reasons count. */
  private readonly pinned = new Map<string, number>();
  private seq = 0;
  private readonly winners = new Map<ZoneBus, Programme | null>();
  /** Startups that found a startAt programme's source not ready on its frame. */
  lateStarts = 0;

  constructor(
    private tree: ZoneTree,
    private readonly hooks: ArbiterHooks,
  ) {}

  get zoneTree(): ZoneTree {
    return this.tree;
  }

  /** True while frames must be produced (something running or fading out). */
  get busy(): boolean {
    for (const p of this.programmes.values()) if (p.state === 'running') return true;
    for (const p of this.programmes.values()) if (p.state === 'pending' && p.startFrame === undefined) return true;
    for (const b of this.buses.values()) if (b.isAiring) return true;
    return false;
  }

  /** Earliest start frame among scheduled programmes (the clock may sleep until then). */
  get nextStartFrame(): number | undefined {
    let min: number | undefined;
    for (const p of this.programmes.values()) {
      if (p.state === 'pending' && p.startFrame !== undefined && (min === undefined || p.startFrame < min)) min = p.startFrame;
    }
    return min;
  }

  add(opts: Omit<ProgrammeOptions, 'seq'>): Programme {
    const p = new Programme({ ...opts, seq: ++this.seq });
    this.programmes.set(p.id, p);
    p.source.prepare();
    return p;
  }

  /** Ends a programme everywhere (stop command, max duration, zone removed). */
  end(id: string, n: number, reason: EndReason, message?: string): boolean {
    const p = this.programmes.get(id);
    if (!p) return false;
    for (const [zone, st] of p.zoneState) {
      if (st === 'on-air' || st === 'preempted') this.zoneEvent(p, zone, 'ended', n, positionOf(p.laneFor(zone), n), { reason, message });
      p.zoneState.set(zone, 'ended');
    }
    this.finish(p, n, reason, message);
    return true;
  }

  /** A bus that exists whatever airs (an endpoint or listener needs it). */
  pin(zone: string): ZoneBus {
    this.pinned.set(zone, (this.pinned.get(zone) ?? 0) + 1);
    return this.ensureBus(zone);
  }

  unpin(zone: string): void {
    const c = (this.pinned.get(zone) ?? 0) - 1;
    if (c > 0) this.pinned.set(zone, c);
    else {
      this.pinned.delete(zone);
      this.releaseIdleBuses();
    }
  }

  /** Swaps in a new tree: programmes keep running on zones that still exist. */
  setTree(tree: ZoneTree, n: number): void {
    this.tree = tree;
    for (const [zone] of this.buses) if (!tree.has(zone)) this.dropBus(zone);
    for (const zone of [...this.pinned.keys()]) if (!tree.has(zone)) this.pinned.delete(zone);
    for (const p of [...this.programmes.values()]) {
      if (p.state !== 'running') continue;
      for (const zone of [...p.zoneState.keys()]) {
        if (!tree.has(zone) || !p.targets.some((t) => tree.covers(t, zone))) p.removeZone(zone);
      }
      this.attachZones(p);
      if (p.zoneState.size === 0) this.end(p.id, n, 'zone-removed');
    }
    this.releaseIdleBuses();
  }

  /** Produces frame n on every bus. */
  step(n: number): void {
    for (const p of [...this.programmes.values()]) {
      if (p.state === 'running' && n >= p.endFrame) this.end(p.id, n, 'max-duration');
      else if (p.state === 'pending') this.maybeStart(p, n);
    }
    const winners = this.winners;
    winners.clear();
    for (const bus of this.buses.values()) winners.set(bus, this.arbitrate(bus));

    // Pull lanes; a lane that ends hands its zones to the next candidate, same frame.
    for (let round = 0; round < 8; round++) {
      for (const p of this.programmes.values()) {
        if (p.state !== 'running') continue;
        p.pullFor(n, (zone) => {
          const bus = this.buses.get(zone);
          return bus !== undefined && winners.get(bus) === p;
        });
      }
      let redo = false;
      for (const p of [...this.programmes.values()]) {
        if (p.state !== 'running') continue;
        for (const lane of [...p.endedLanes()]) {
          const reason: EndReason = lane.source.error ? 'error' : 'completed';
          for (const zone of lane.zones) {
            const st = p.zoneState.get(zone);
            if (st === 'on-air' || st === 'preempted') {
              this.zoneEvent(p, zone, 'ended', n, lane.source.positionMs, { reason, message: lane.source.error });
            }
            p.zoneState.set(zone, 'ended');
            const bus = this.buses.get(zone);
            if (bus && winners.get(bus) === p) {
              winners.set(bus, this.arbitrate(bus));
              redo = true;
            }
          }
          p.dropLaneZones(lane);
        }
        if (p.exhausted) {
          const failed = p.lanes.find((l) => l.source.error);
          this.finish(p, n, failed ? 'error' : 'completed', failed?.source.error);
        }
      }
      if (!redo) break;
    }

    for (const [bus, p] of winners) {
      const prev = bus.onAir;
      const next = p ? p.id : null;
      if (prev !== next) {
        const old = prev !== null ? this.programmes.get(prev) : undefined;
        if (old && old.zoneState.get(bus.zoneId) === 'on-air') {
          old.zoneState.set(bus.zoneId, 'preempted');
          this.zoneEvent(old, bus.zoneId, 'preempted', n, positionOf(old.laneFor(bus.zoneId), n), { by: next ?? undefined });
        }
        if (p) {
          const st = p.zoneState.get(bus.zoneId);
          p.zoneState.set(bus.zoneId, 'on-air');
          this.zoneEvent(p, bus.zoneId, st === 'waiting' ? 'on-air' : 'resumed', n, positionOf(p.laneFor(bus.zoneId), n));
        }
      }
      const lane = p?.laneFor(bus.zoneId);
      const audio: Frame | null = lane && lane.pulledAt === n && lane.result === 'audio' ? lane.frame : null;
      bus.deliver(n, next, audio);
    }
    this.releaseIdleBuses();
  }

  private maybeStart(p: Programme, n: number): void {
    if (p.startFrame !== undefined && n < p.startFrame) return;
    const waitedOut = n - p.createdFrame >= READY_TIMEOUT_FRAMES;
    if (p.startFrame === undefined || p.startFrame < p.createdFrame) {
      if (!p.source.ready && !waitedOut) return;
    } else if (!p.source.ready) {
      this.lateStarts++;
    }
    p.state = 'running';
    p.startedFrame = n;
    this.attachZones(p);
  }

  /** Gives a running programme every bus zone it covers (creating leaf buses). */
  private attachZones(p: Programme): void {
    for (const zone of this.tree.coveredBy(p.targets)) {
      if (this.tree.isLeaf(zone) || this.buses.has(zone)) {
        this.ensureBus(zone);
        if (!p.zoneState.has(zone)) p.addZone(zone);
      }
    }
  }

  private arbitrate(bus: ZoneBus): Programme | null {
    const candidates: Programme[] = [];
    for (const p of this.programmes.values()) if (p.airsIn(bus.zoneId)) candidates.push(p);
    return choose(candidates, bus.onAir);
  }

  private ensureBus(zone: string): ZoneBus {
    let bus = this.buses.get(zone);
    if (bus) return bus;
    bus = new ZoneBus(zone);
    this.buses.set(zone, bus);
    for (const p of this.programmes.values()) {
      if (p.state === 'running' && p.targets.some((t) => this.tree.covers(t, zone))) p.addZone(zone);
    }
    this.hooks.busCreated?.(bus);
    return bus;
  }

  private dropBus(zone: string): void {
    const bus = this.buses.get(zone);
    if (!bus) return;
    for (const p of this.programmes.values()) p.removeZone(zone);
    this.hooks.busDropped?.(bus);
    bus.close();
    this.buses.delete(zone);
  }

  /** Drops buses nobody listens to and nothing covers (an idle zone costs nothing). */
  private releaseIdleBuses(): void {
    for (const [zone, bus] of this.buses) {
      if (this.pinned.has(zone) || bus.isAiring) continue;
      let covered = false;
      for (const p of this.programmes.values()) if (p.state === 'running' && p.airsIn(zone)) covered = true;
      if (!covered) this.dropBus(zone);
    }
  }

  private finish(p: Programme, n: number, reason: EndReason, message?: string): void {
    if (p.state === 'ended') return;
    p.state = 'ended';
    p.endReason = reason;
    p.endMessage = message;
    p.close();
    this.programmes.delete(p.id);
    this.hooks.emit({ type: 'programmeEnded', programmeId: p.id, reason, ...(message ? { message } : {}), atMs: this.hooks.frameWallMs(n) });
  }

  private zoneEvent(
    p: Programme,
    zoneId: string,
    state: 'on-air' | 'preempted' | 'resumed' | 'ended',
    n: number,
    positionMs: number,
    extra: { by?: string; reason?: EndReason; message?: string } = {},
  ): void {
    const e: EngineEvent = { type: 'programme', programmeId: p.id, zoneId, state, atMs: this.hooks.frameWallMs(n), frame: n, positionMs };
    if (extra.by !== undefined) e.by = extra.by;
    if (extra.reason !== undefined) e.reason = extra.reason;
    if (extra.message !== undefined) e.message = extra.message;
    this.hooks.emit(e);
  }

  close(): void {
    for (const p of this.programmes.values()) p.close();
    this.programmes.clear();
    for (const bus of this.buses.values()) bus.close();
    this.buses.clear();
  }
}

/** Position at the start of frame n (a lane pulled at n already moved on by one frame). */
function positionOf(lane: Lane | undefined, n: number): number {
  if (!lane) return 0;
  return lane.pulledAt === n ? lane.positionBefore : lane.source.positionMs;
}
