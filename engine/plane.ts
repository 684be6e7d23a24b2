/**
 * The media plane inside one worker: owns the clock, the arbiter (and so the
 * programmes and zone buses), the zone streams, the endpoints and the UDP
 * sockets. Commands come in through `handle` (validated: a bad command gets an
 * `error` event, never a crash); events go out through `emit`. Usable
 * in-process with a simulated TimeSource (tests, benchmarks) or inside the
 * worker with real time (engine/worker.ts).
 *
 * Ownership: MediaPlane → Arbiter → ZoneBus → sinks (ZoneStream → Fanout);
 * close() cascades down and closes the sockets.
 */
import dgram, { type Socket } from 'node:dgram';
import { literalLookup } from './literal-lookup.js';
import { isIP } from 'node:net';
import type { AudioEncoder, CodecName } from '../codecs/codec.js';
import { FRAME_MS } from '../codecs/pcm.js';
import { codecInfo } from '../codecs/registry.js';
import { Arbiter } from './arbiter.js';
import { FrameClock, MAX_CATCH_UP_FRAMES, realTimeSource, type TimeSource } from '../codecs/frame-clock.js';
import { MIN_QUEUED_SENDS, type SendPolicy } from './fanout.js';
import { defaultSendBackend, type SendBackend } from './send-backend.js';
import { MediaPort } from './media-port.js';
import { validateCommand, type Command, type CommandOf, type EngineEvent, type ErrorEvent, type StatusEvent } from './protocol.js';
import { buildSource, SourceSpecError } from './sources/build.js';
import { PACKET_RING_SLOTS, ZoneStream } from './stream.js';
import type { BusSink, ZoneBus } from './zone-bus.js';
import { ZoneTree, ZoneTreeError } from '../domain/zone-tree.js';

export interface MulticastOptions {
  /** Local interface address multicast is sent from (also the bound address of the multicast socket). */
  interfaceAddress: string;
  /** Default 1 (stay on the local segment); a zone's group may ask for another (setZoneMulticast). */
  ttl?: number;
  /** Deliver to local listeners too; default true. */
  loopback?: boolean;
}

export interface MediaPlaneOptions {
  rtpPort: number;
  rtpHost?: string;
  multicast?: MulticastOptions;
  emit(e: EngineEvent): void;
  time?: TimeSource;
  maxCatchUpFrames?: number;
  /** streamStats events this often (default 5000 ms; 0 = never). */
  statsIntervalMs?: number;
  /**
   * Fixed limit on each socket's queue of sends waiting for the kernel
   * (datagrams); default: QUEUED_FRAMES frames of every destination, at least MIN_QUEUED_SENDS.
   */
  maxQueuedSends?: number;
  /** Test hook: builds the one encoder of each zone stream. */
  createEncoder?(codec: CodecName): AudioEncoder;
}

interface EndpointEntry {
  id: string;
  zoneId: string;
  codec: CodecName;
  host: string | null;
  port: number | null;
  rtcpPort: number | null;
  fixed: boolean;
}

/**
 * Frames of fan-out a socket's send queue may hold. A burst of one frame to
 * every destination can outrun the socket buffer on a healthy network
 * (libuv queues the rest and sends it when the socket drains); a queue that
 * still holds two frames' worth means the network is not keeping up, and
 * more queueing would only make every packet later and use memory.
 */
export const QUEUED_FRAMES = 2;

interface StreamEntry {
  stream: ZoneStream;
  users: number;
}

export class MediaPlane {
  readonly clock: FrameClock;
  readonly arbiter: Arbiter;
  private readonly streams = new Map<string, Map<CodecName, StreamEntry>>();
  private readonly endpoints = new Map<string, EndpointEntry>();
  private readonly groups = new Map<string, { address: string; port: number; rtcpPort: number; codec: CodecName; ttl: number }>();
  /** One multicast socket per TTL in use (IP_MULTICAST_TTL is per socket, and a queued send must keep its own). */
  private readonly multicastSockets = new Map<number, Socket>();
  private readonly openingMulticast = new Map<number, Promise<Socket>>();
  private readonly sendPolicy: SendPolicy;
  private readonly statsEvery: number;
  rejectedCommands = 0;
  /** Programmes played whose first frame has not run yet (programmeStarted still owed). */
  private readonly unannounced = new Set<string>();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly opts: MediaPlaneOptions,
    private readonly time: TimeSource,
    readonly media: MediaPort,
    private readonly multicastSocket: Socket | undefined,
  ) {
    this.sendPolicy = { maxQueued: opts.maxQueuedSends ?? MIN_QUEUED_SENDS, totals: media.counters, backend: defaultSendBackend() };
    if (multicastSocket) this.adoptMulticastSocket(opts.multicast!.ttl ?? 1, multicastSocket);
    // A stream reuses PACKET_RING_SLOTS buffers in turn and dgram reads them after the
    // event-loop turn: one turn (one catch-up) must produce fewer frames than that.
    const maxCatchUpFrames = Math.min(opts.maxCatchUpFrames ?? MAX_CATCH_UP_FRAMES, PACKET_RING_SLOTS - 2);
    this.clock = new FrameClock(time, (n) => this.onFrame(n), { maxCatchUpFrames });
    this.arbiter = new Arbiter(ZoneTree.build([]), {
      emit: (e) => this.emit(e),
      frameWallMs: (n) => this.clock.frameWallMs(n),
      busDropped: (bus) => this.onBusDropped(bus),
    });
    this.statsEvery = Math.round((opts.statsIntervalMs ?? 5000) / FRAME_MS);
  }

  static async open(opts: MediaPlaneOptions): Promise<MediaPlane> {
    const time = opts.time ?? realTimeSource();
    let plane: MediaPlane | undefined;
    const media = await MediaPort.open(opts.rtpPort, opts.rtpHost, {
      learned: (id, host, port) => plane?.onLearned(id, host, port),
      report: (id, block, rttMs) => plane?.onReport(id, block.fractionLost, block.cumulativeLost, block.jitter, rttMs),
      wallNow: () => time.wallNow(),
    });
    let mcast: Socket | undefined;
    if (opts.multicast) {
      try {
        mcast = await openMulticastSocket(opts.multicast);
      } catch (err) {
        await media.close();
        throw err;
      }
    }
    plane = new MediaPlane(opts, time, media, mcast);
    return plane;
  }

  get rtpPort(): number {
    return this.media.port;
  }

  /** How this plane's fan-outs reach the kernel (engine/send-backend.ts). */
  get sendBackend(): SendBackend {
    return this.sendPolicy.backend!;
  }

  /** Validates and applies one command. Never throws. */
  handle(msg: unknown): void {
    if (this.closed) return;
    const v = validateCommand(msg);
    if (!v.ok) return this.reject({ code: 'bad-command', message: v.message, command: v.command });
    try {
      this.apply(v.command);
    } catch (err) {
      this.reject({ code: 'internal', message: (err as Error).message, command: v.command.type });
    }
    this.reschedule();
  }

  /** Hears a zone's frames (HTTP listeners, tests): pins the zone's bus while attached. */
  listen(zoneId: string, sink: BusSink): () => void {
    const bus = this.arbiter.pin(zoneId);
    bus.addSink(sink);
    return () => {
      bus.removeSink(sink);
      this.arbiter.unpin(zoneId);
    };
  }

  /** The stream of a zone in a codec, if any endpoint or group uses it. */
  streamOf(zoneId: string, codec: CodecName): ZoneStream | undefined {
    return this.streams.get(zoneId)?.get(codec)?.stream;
  }

  private apply(c: Command): void {
    switch (c.type) {
      case 'setZones':
        return this.setZones(c);
      case 'play':
        return this.play(c);
      case 'stop':
        if (!this.arbiter.end(c.programmeId, this.clock.upcomingFrame(), 'stopped')) {
          this.reject({ code: 'unknown-programme', message: `no programme '${c.programmeId}'`, command: 'stop', programmeId: c.programmeId });
        }
        return;
      case 'attachEndpoint':
        return this.attach(c);
      case 'detachEndpoint':
        if (!this.detach(c.endpointId)) {
          this.reject({ code: 'unknown-endpoint', message: `no endpoint '${c.endpointId}'`, command: c.type, endpointId: c.endpointId });
        }
        return;
      case 'setZoneMulticast':
        return this.setMulticast(c);
      case 'status':
        return this.emit(this.status(c.requestId));
      case 'shutdown':
        void this.close();
        return;
    }
  }

  private setZones(c: CommandOf<'setZones'>): void {
    let tree: ZoneTree;
    try {
      tree = ZoneTree.build(c.zones);
    } catch (err) {
      if (err instanceof ZoneTreeError) return this.reject({ code: 'bad-command', message: err.message, command: c.type });
      throw err;
    }
    for (const [zone] of this.groups) if (!tree.has(zone)) this.groups.delete(zone);
    this.arbiter.setTree(tree, this.clock.upcomingFrame());
  }

  private play(c: CommandOf<'play'>): void {
    const tree = this.arbiter.zoneTree;
    if (this.arbiter.programmes.has(c.programmeId)) {
      return this.reject({ code: 'duplicate-programme', message: `programme '${c.programmeId}' exists`, command: c.type, programmeId: c.programmeId });
    }
    const unknown = c.zones.filter((z) => !tree.has(z));
    if (unknown.length) {
      return this.reject({ code: 'unknown-zone', message: `unknown zone(s): ${unknown.slice(0, 5).join(', ')}`, command: c.type, programmeId: c.programmeId });
    }
    let source;
    try {
      source = buildSource(c.source);
    } catch (err) {
      if (err instanceof SourceSpecError) return this.reject({ code: 'bad-source', message: err.message, command: c.type, programmeId: c.programmeId });
      throw err;
    }
    this.unannounced.add(c.programmeId);
    this.arbiter.add({
      id: c.programmeId,
      priority: c.priority,
      targets: [...new Set(c.zones)],
      source,
      maxDurationMs: c.maxDurationMs,
      startFrame: c.startAt !== undefined ? this.clock.frameAtWallMs(c.startAt) : undefined,
      createdFrame: this.clock.upcomingFrame(),
    });
  }

  private attach(c: CommandOf<'attachEndpoint'>): void {
    if (!this.arbiter.zoneTree.has(c.zoneId)) {
      return this.reject({ code: 'unknown-zone', message: `unknown zone '${c.zoneId}'`, command: c.type, endpointId: c.endpointId });
    }
    if ((c.learn === undefined) === (c.address === undefined)) {
      return this.reject({ code: 'bad-command', message: 'attachEndpoint needs exactly one of learn or address', command: c.type, endpointId: c.endpointId });
    }
    if (c.address && isIP(c.address.host) !== 4) {
      return this.reject({ code: 'bad-command', message: `address.host must be an IPv4 literal, got '${c.address.host}'`, command: c.type, endpointId: c.endpointId });
    }
    if (this.endpoints.has(c.endpointId)) this.detach(c.endpointId);
    const e: EndpointEntry = {
      id: c.endpointId,
      zoneId: c.zoneId,
      codec: c.codec,
      host: c.address?.host ?? null,
      port: c.address?.port ?? null,
      rtcpPort: c.address ? (c.address.rtcpPort ?? c.address.port + 1) : null,
      fixed: c.address !== undefined,
    };
    this.endpoints.set(e.id, e);
    const stream = this.acquireStream(e.zoneId, e.codec);
    if (e.fixed) {
      this.route(e, stream);
      // Devices send their reports from the RTCP port (RFC 3550) or, muxed, from the RTP port.
      this.media.expectReportsFrom(e.id, e.host!, e.rtcpPort!);
      this.media.expectReportsFrom(e.id, e.host!, e.port!);
    } else this.media.register(e.id, c.learn ?? {});
  }

  private detach(endpointId: string): boolean {
    const e = this.endpoints.get(endpointId);
    if (!e) return false;
    this.endpoints.delete(endpointId);
    this.media.unregister(endpointId);
    const s = this.streamOf(e.zoneId, e.codec);
    s?.fanout.remove(e.id);
    this.releaseStream(e.zoneId, e.codec);
    this.updateSendLimit();
    return true;
  }

  private setMulticast(c: CommandOf<'setZoneMulticast'>): void {
    if (!this.multicastSocket) return this.reject({ code: 'bad-command', message: 'no multicast interface configured', command: c.type });
    if (!this.arbiter.zoneTree.has(c.zoneId)) return this.reject({ code: 'unknown-zone', message: `unknown zone '${c.zoneId}'`, command: c.type });
    const old = this.groups.get(c.zoneId);
    if (old) {
      this.streamOf(c.zoneId, old.codec)?.fanout.remove('multicast');
      this.releaseStream(c.zoneId, old.codec);
      this.groups.delete(c.zoneId);
      this.updateSendLimit();
    }
    if (!c.group) return;
    if (isIP(c.group.address) !== 4) return this.reject({ code: 'bad-command', message: 'group.address must be an IPv4 literal', command: c.type });
    const g = {
      address: c.group.address,
      port: c.group.port,
      rtcpPort: c.group.rtcpPort ?? c.group.port + 1,
      codec: c.group.codec,
      ttl: c.group.ttl ?? this.opts.multicast?.ttl ?? 1,
    };
    this.groups.set(c.zoneId, g);
    const stream = this.acquireStream(c.zoneId, g.codec);
    const add = (socket: Socket): void => {
      stream.fanout.set({ key: 'multicast', host: g.address, port: g.port, rtcpPort: g.rtcpPort, socket });
      this.updateSendLimit();
    };
    const ready = this.multicastSockets.get(g.ttl);
    if (ready) return add(ready);
    // Another TTL: its socket is opened once, then the group starts (if it is still the zone's group).
    this.multicastSocketFor(g.ttl).then(
      (socket) => {
        if (!this.closed && this.groups.get(c.zoneId) === g) add(socket);
      },
      (err: Error) => {
        if (!this.closed) this.emit({ type: 'error', code: 'internal', message: `multicast socket (ttl ${g.ttl}): ${err.message}`, command: c.type });
      },
    );
  }

  private multicastSocketFor(ttl: number): Promise<Socket> {
    let p = this.openingMulticast.get(ttl);
    if (!p) {
      p = openMulticastSocket({ ...this.opts.multicast!, ttl }).then((s) => {
        this.openingMulticast.delete(ttl);
        if (this.closed) {
          s.close();
          throw new Error('media plane closed');
        }
        this.adoptMulticastSocket(ttl, s);
        return s;
      });
      this.openingMulticast.set(ttl, p);
    }
    return p;
  }

  private adoptMulticastSocket(ttl: number, s: Socket): void {
    s.removeAllListeners('error');
    s.on('error', () => {
      this.media.counters.sendErrors++;
    });
    this.multicastSockets.set(ttl, s);
  }

  /** The queue limit follows the destinations: QUEUED_FRAMES frames of all of them. */
  private updateSendLimit(): void {
    if (this.opts.maxQueuedSends !== undefined) return;
    let perFrame = 0;
    for (const byCodec of this.streams.values()) for (const { stream } of byCodec.values()) perFrame += stream.fanout.size * stream.packetsPerFrame;
    this.sendPolicy.maxQueued = Math.max(MIN_QUEUED_SENDS, QUEUED_FRAMES * perFrame);
  }

  private acquireStream(zoneId: string, codec: CodecName): ZoneStream {
    let byCodec = this.streams.get(zoneId);
    if (!byCodec) this.streams.set(zoneId, (byCodec = new Map()));
    let entry = byCodec.get(codec);
    if (!entry) {
      const stream = new ZoneStream({
        zoneId,
        codec,
        frameWallMs: (n) => this.clock.frameWallMs(n),
        encoder: this.opts.createEncoder?.(codec),
        sendPolicy: this.sendPolicy,
      });
      entry = { stream, users: 0 };
      byCodec.set(codec, entry);
      this.arbiter.pin(zoneId).addSink(stream);
    }
    entry.users++;
    return entry.stream;
  }

  private releaseStream(zoneId: string, codec: CodecName): void {
    const byCodec = this.streams.get(zoneId);
    const entry = byCodec?.get(codec);
    if (!byCodec || !entry) return;
    if (--entry.users > 0) return;
    byCodec.delete(codec);
    if (byCodec.size === 0) this.streams.delete(zoneId);
    this.arbiter.buses.get(zoneId)?.removeSink(entry.stream);
    entry.stream.close();
    this.arbiter.unpin(zoneId);
  }

  private route(e: EndpointEntry, stream: ZoneStream): void {
    if (e.host === null || e.port === null) return;
    stream.fanout.set({ key: e.id, host: e.host, port: e.port, rtcpPort: e.rtcpPort ?? e.port, socket: this.media.socket });
    this.updateSendLimit();
  }

  private onLearned(endpointId: string, host: string, port: number): void {
    const e = this.endpoints.get(endpointId);
    if (!e || e.fixed) return;
    e.host = host;
    e.port = port;
    e.rtcpPort = port; // agents multiplex RTCP on their one socket
    const stream = this.streamOf(e.zoneId, e.codec);
    if (stream) this.route(e, stream);
    this.emit({ type: 'endpointAddress', endpointId, host, port });
  }

  private onReport(endpointId: string, fractionLost: number, cumulativeLost: number, jitter: number, rttMs: number | undefined): void {
    const e = this.endpoints.get(endpointId);
    if (!e) return;
    const ev: EngineEvent = {
      type: 'endpointStats',
      endpointId,
      fractionLost: fractionLost / 256,
      cumulativeLost,
      jitterMs: (jitter / codecInfo(e.codec).clockRate) * 1000,
      atMs: this.time.wallNow(),
    };
    if (rttMs !== undefined) ev.rttMs = rttMs;
    this.emit(ev);
  }

  private onBusDropped(bus: ZoneBus): void {
    // Only a zone removed from the tree drops a pinned bus: its endpoints go with it.
    for (const e of [...this.endpoints.values()]) {
      if (e.zoneId !== bus.zoneId) continue;
      this.detach(e.id);
      this.emit({ type: 'error', code: 'unknown-zone', message: `zone '${bus.zoneId}' was removed: endpoint detached`, endpointId: e.id });
    }
    const byCodec = this.streams.get(bus.zoneId);
    if (byCodec) for (const entry of byCodec.values()) entry.stream.close();
    this.streams.delete(bus.zoneId);
  }

  private onFrame(n: number): void {
    try {
      this.arbiter.step(n);
      if (this.unannounced.size > 0) this.announceStarts(n);
      if (this.statsEvery > 0 && n % this.statsEvery === 0) {
        for (const byCodec of this.streams.values()) {
          for (const { stream } of byCodec.values()) {
            if (stream.fanout.size > 0) this.emit({ type: 'streamStats', ...stream.stats(), atMs: this.clock.frameWallMs(n) });
          }
        }
      }
    } catch (err) {
      this.emit({ type: 'error', code: 'internal', message: `frame ${n}: ${(err as Error).stack ?? err}` });
    }
    this.reschedule();
  }

  /** programmeStarted for each programme that ran its first frame at n (after arbitration: states are n's). */
  private announceStarts(n: number): void {
    for (const id of this.unannounced) {
      const p = this.arbiter.programmes.get(id);
      if (!p) {
        this.unannounced.delete(id); // refused, stopped or over before a frame: programmeEnded/error said so
        continue;
      }
      if (p.state !== 'running') continue;
      this.unannounced.delete(id);
      const zones = [...p.zoneState].map(([zoneId, st]) => ({ zoneId, state: st === 'on-air' ? ('on-air' as const) : st === 'ended' ? ('ended' as const) : ('waiting' as const) }));
      this.emit({ type: 'programmeStarted', programmeId: id, frame: n, atMs: this.clock.frameWallMs(n), zones });
    }
  }

  /** Runs the clock only while something needs frames; sleeps until the next scheduled start otherwise. */
  private reschedule(): void {
    if (this.closed) return this.clock.stop();
    if (this.arbiter.busy) return this.clock.start();
    const next = this.arbiter.nextStartFrame;
    if (next !== undefined) {
      this.clock.stop();
      this.clock.start(next);
    } else this.clock.stop();
  }

  status(requestId: string): StatusEvent {
    const m = this.media.counters;
    return {
      type: 'status',
      requestId,
      frame: this.clock.nextFrame,
      running: this.clock.running,
      wallT0: this.clock.wallT0,
      zones: this.arbiter.zoneTree.size,
      buses: [...this.arbiter.buses.values()].map((b) => ({ zoneId: b.zoneId, onAir: b.onAir, endpoints: b.sinkCount })),
      programmes: [...this.arbiter.programmes.values()].map((p) => ({
        programmeId: p.id,
        priority: p.priority,
        state: p.state === 'running' ? 'running' : 'pending',
        zones: [...p.zoneState].map(([zoneId, state]) => ({ zoneId, state, positionMs: p.laneFor(zoneId)?.source.positionMs ?? 0 })),
      })),
      streams: [...this.streams.values()].flatMap((m) => [...m.values()].map((e) => e.stream.stats())),
      endpoints: [...this.endpoints.values()].map((e) => {
        const sends = this.streamOf(e.zoneId, e.codec)?.fanout.statsOf(e.id);
        return {
          endpointId: e.id,
          zoneId: e.zoneId,
          codec: e.codec,
          host: e.host,
          port: e.port,
          sendErrors: sends?.errors ?? 0,
          sendDropped: sends?.dropped ?? 0,
          lastSendError: sends?.lastError ?? null,
        };
      }),
      counters: {
        badPackets: m.badPackets,
        unknownPackets: m.unknownPackets,
        skippedFrames: this.clock.skippedFrames,
        lateWakeups: this.clock.lateWakeups,
        sendErrors: m.sendErrors,
        sendDropped: m.sendDropped,
        maxQueuedSends: this.sendPolicy.maxQueued,
        sendBackend: this.sendPolicy.backend!.name,
        rejectedCommands: this.rejectedCommands,
      },
    };
  }

  private reject(e: Omit<ErrorEvent, 'type'>): void {
    this.rejectedCommands++;
    const ev: ErrorEvent = { type: 'error', code: e.code, message: e.message };
    if (e.command !== undefined) ev.command = e.command;
    if (e.programmeId !== undefined) ev.programmeId = e.programmeId;
    if (e.endpointId !== undefined) ev.endpointId = e.endpointId;
    this.emit(ev);
  }

  private emit(e: EngineEvent): void {
    try {
      this.opts.emit(e);
    } catch {
      // A listener's failure must not stop the media.
    }
  }

  /** Stops the clock, ends every programme, closes streams and sockets. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.clock.stop();
    for (const byCodec of this.streams.values()) for (const { stream } of byCodec.values()) stream.close();
    this.streams.clear();
    this.arbiter.close();
    await this.media.close();
    await Promise.allSettled([...this.openingMulticast.values()]);
    await Promise.all([...this.multicastSockets.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function openMulticastSocket(m: MulticastOptions): Promise<Socket> {
  const s = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  return new Promise((resolve, reject) => {
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(0, m.interfaceAddress, () => {
      s.removeAllListeners('error');
      s.on('error', () => {}); // until the plane adopts it
      s.setMulticastInterface(m.interfaceAddress);
      s.setMulticastTTL(m.ttl ?? 1);
      s.setMulticastLoopback(m.loopback ?? true);
      resolve(s);
    });
  });
}
