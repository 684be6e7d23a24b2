/**
 * The server's media engine and everything that ties the control plane to it.
 *
 * BroadcastHost owns: the Engine (media worker), the ProgrammeCatalog (who
 * asked for what), the OnAirBoard (what each zone airs, from engine events),
 * the control sessions of connected speaker agents, and the throttled stats
 * writer. close() cascades: sessions closed, stats flushed, engine stopped.
 *
 * The engine's copy of the world is kept in step with the database by
 * reconciliation, never by incremental guesses:
 *  - syncZones(): zone tree (+ multicast groups) from the database → engine;
 *    then every endpoint is reconciled (a deleted subtree takes its endpoints).
 *  - syncEndpoint(id) / syncEndpoints(): for each endpoint, the attachment it
 *    should have (a learned-address one while its agent is connected, a fixed
 *    address one for receive-only RTP devices, none otherwise) is compared to
 *    the one it has, and only differences are sent. A connected agent whose
 *    endpoint moved gets a `config` message (never a reconnect); one whose
 *    endpoint was deleted, disabled or given a new credential is disconnected.
 * All syncs run one after another (a queue), so they never interleave.
 *
 * Used by: server/api/playback.ts, server/api/streams.ts, the control channel
 * (control-channel.ts), the zones/endpoints routes (through BroadcastHooks),
 * and the timetable (play/stop with kind 'media' | … and by = 'timetable').
 */
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { CODEC_NAMES, type CodecName } from '../../codecs/codec.js';
import { Engine } from '../../engine/engine.js';
import type { MulticastOptions } from '../../engine/plane.js';
import type { AttachEndpointOptions, PlayOptions } from '../../engine/engine.js';
import type { ErrorEvent, ProgrammeEndedEvent, ProgrammeStartedEvent, ProgrammeZoneEvent, SourceSpec, StatusEvent, ZoneNode } from '../../engine/protocol.js';
import { CONTROL_CLOSE } from '../../protocols/control/close-codes.js';
import type { ControlServerSession, EndpointSessionInfo } from '../../protocols/control/server-session.js';
import type { Database, Endpoint } from '../db/types.js';
import type { Logger } from '../logger.js';
import { SendErrorLog } from './send-error-log.js';
import { randomBase32 } from '../ids.js';
import { ProgrammeCatalog, type ProgrammeInfo, type ProgrammeKind } from './programme-catalog.js';
import { OnAirBoard } from './on-air.js';
import { PlayheadTracker, playheadPosition, type Playhead } from './playheads.js';
import { ProgrammeLedger, type DurableProgramme } from './programme-ledger.js';
import { resumeMarginMs, sourceAtOffset } from './resume-source.js';
import type { StatsWriter } from './stats-writer.js';
import { readTopologySnapshot, TopologySnapshotWriter, type SnapshotAttachment, type SnapshotRead, type TopologySnapshot } from './topology-snapshot.js';
import { DEFAULT_PLAYOUT_DELAY_MS, broadcastDb, effectivePlayoutDelay, type MulticastGroup } from './zone-settings.js';

/** What the zones and endpoints routes call after a change (decoupled from the engine). */
export interface BroadcastHooks {
  /** After a zone was created, moved, deleted (or its broadcast settings changed). */
  zonesChanged(): Promise<void>;
  /** After an endpoint was created, updated or deleted; `credentialChanged` disconnects its agent. */
  endpointChanged(endpointId: string, opts?: { credentialChanged?: boolean }): Promise<void>;
  /** False once the media engine's worker has died: /readyz then says so instead of "ok". */
  readonly engineAlive: boolean;
}

export interface BroadcastHostOptions {
  database: Database;
  logger: Logger;
  /** UDP port of the media engine (LOA_RTP_PORT; 0 = any free port). */
  rtpPort: number;
  /** Local address the engine binds (default: all). */
  rtpBindHost?: string;
  /**
   * Host agents are told to send keepalives/RTCP to (LOA_PUBLIC_HOST). Unset: the address the
   * agent's control connection reached this server at (right on a LAN without NAT).
   */
  publicHost?: string;
  /** Local interface for zone multicast groups (none: multicast groups are refused and logged). */
  multicast?: MulticastOptions;
  /** Playout delay of zones (and their ancestors) that set none; default 150 ms. */
  defaultPlayoutDelayMs?: number;
  /** Control-channel timings handed to agents (defaults: the session's). */
  control?: { statsIntervalMs?: number; heartbeatIntervalMs?: number; keepaliveIntervalMs?: number; helloTimeoutMs?: number };
  /** Minimum time between two stats writes of one endpoint (default 10 s). */
  statsWriteIntervalMs?: number;
  /** Default 30 s. */
  engineStartTimeoutMs?: number;
  /** waitForStart's bound for a source slow to prepare (default 1.5 s); a ready source answers on its first frame. */
  startWaitMs?: number;
  /**
   * Directory of the durable programme ledger (manual and emergency programmes put back on
   * air after a crash: programme-ledger.ts). Unset: such programmes do not survive a restart.
   */
  ledgerDir?: string;
  /** Lets tests crash the media worker (Engine.crashForTest). */
  engineTestHooks?: boolean;
  /** An engine already starting (main.ts spawns the worker while the database opens); default: started here. */
  engine?: Promise<Engine>;
}

/** The engine a host of these options runs (start it early and hand it over as `engine`). */
export function startHostEngine(opts: Omit<BroadcastHostOptions, 'database' | 'logger'>): Promise<Engine> {
  return Engine.start({
    rtpPort: opts.rtpPort,
    rtpHost: opts.rtpBindHost,
    multicast: opts.multicast,
    startTimeoutMs: opts.engineStartTimeoutMs,
    ...(opts.engineTestHooks && { testHooks: true }),
  });
}

/** A programme as the catalog holds it, plus how it was asked for through the API. */
export interface HostedProgramme extends ProgrammeInfo {
  /** The source as the caller described it (e.g. {kind:'media', mediaId}); shown by GET /playback. */
  request?: unknown;
}

export interface PlayRequest {
  /** Default: a fresh `prg_…` id. */
  programmeId?: string;
  zoneIds: string[];
  priority: number;
  source: SourceSpec;
  maxDurationMs?: number;
  /** Wall-clock epoch ms to start on (the timetable); default: as soon as ready. */
  startAt?: number;
  title: string;
  kind: ProgrammeKind;
  /** A user id, 'timetable' or 'alert'. */
  by: string;
  entryId?: string;
  airingId?: string;
  /** Kept with the programme for listings (see HostedProgramme.request). */
  request?: unknown;
  /**
   * Survives a restart (the ledger). Default true; timetable airings too: they go back on air
   * from the ledger before the database opens, and the timetable adopts them (adoptAiring).
   */
  durable?: boolean;
  /** Put back on air after the worker or the server died: its as-run 'start' row says so. */
  resumption?: boolean;
}

export type StartOutcome =
  | { state: 'on-air' | 'waiting' }
  | { state: 'failed'; code: ErrorEvent['code'] | 'ended'; message: string };

interface LiveSession {
  session: ControlServerSession;
  info: EndpointSessionInfo;
  rtp: { host: string; port: number };
}

interface Attachment {
  key: string;
  zoneId: string;
  codec: CodecName;
  /** What was sent, to send again to a restarted worker. */
  command: AttachEndpointOptions;
}

export function newProgrammeId(): string {
  return `prg_${randomBase32()}`;
}

/** The codecs an endpoint row allows, in its order (unknown names skipped). */
export function endpointCodecs(e: Pick<Endpoint, 'codecs'>): CodecName[] {
  let list: unknown;
  try {
    list = JSON.parse(e.codecs);
  } catch {
    list = [];
  }
  // CODEC_NAMES, not the codec registry: that loads the Opus binding, which only the worker needs.
  const out = Array.isArray(list) ? list.filter((c): c is CodecName => typeof c === 'string' && (CODEC_NAMES as readonly string[]).includes(c)) : [];
  return out.length ? out : ['opus', 'pcmu'];
}

/** A host started before its database opens (main.ts): the database is attached later. */
export type EarlyHostOptions = Omit<BroadcastHostOptions, 'database'>;

export class BroadcastHost implements BroadcastHooks {
  readonly catalog = new ProgrammeCatalog();
  readonly onAir = new OnAirBoard();
  /** Endpoint stats to the database; created when the database is attached. */
  stats: StatsWriter | undefined;
  readonly defaultPlayoutDelayMs: number;
  /** Connected agents by endpoint id. */
  private readonly sessions = new Map<string, LiveSession>();
  private readonly attached = new Map<string, Attachment>();
  private multicastSent = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private database: Database | undefined;

  private get db() {
    if (!this.database) throw new Error('the database is not open yet');
    return this.database.db;
  }

  private constructor(
    readonly engine: Engine,
    private readonly opts: EarlyHostOptions,
  ) {
    this.defaultPlayoutDelayMs = opts.defaultPlayoutDelayMs ?? DEFAULT_PLAYOUT_DELAY_MS;
    const log = opts.logger;
    const sendErrors = new SendErrorLog(log);
    engine.on('programme', (e: ProgrammeZoneEvent) => this.onAir.apply(e));
    engine.on('programmeEnded', (e: ProgrammeEndedEvent) => {
      this.catalog.markEnded(e.programmeId, e.atMs);
      const level = e.reason === 'error' ? 'warn' : 'info';
      log[level]({ programmeId: e.programmeId, reason: e.reason, detail: e.message }, 'programme ended');
    });
    engine.on('engineError', (e: ErrorEvent) => {
      log.warn({ code: e.code, reason: e.message, command: e.command, programmeId: e.programmeId, endpointId: e.endpointId }, 'media engine refused a command');
      // A play the engine refused never starts: it is over as far as the catalog is concerned.
      if (e.command === 'play' && e.programmeId && e.code !== 'duplicate-programme') this.catalog.markEnded(e.programmeId, Date.now());
    });
    engine.on('endpointStats', (e) => {
      const live = this.sessions.get(e.endpointId);
      this.rtcpView.set(e.endpointId, { fractionLost: e.fractionLost, cumulativeLost: e.cumulativeLost, jitterMs: e.jitterMs, rttMs: e.rttMs, at: new Date(e.atMs).toISOString() });
      // Fixed-address devices have no control channel: their RTCP is all we know.
      if (!live) this.stats?.offer(e.endpointId, { rtcp: this.rtcpView.get(e.endpointId) });
    });
    engine.on('streamStats', (e) => sendErrors.onStreamStats(e));
    engine.on('exit', (code) => {
      if (this.closing) return;
      this.engineExited = true;
      log.error({ code }, 'media engine exited unexpectedly; audio has stopped');
    });
    this.superviseEngine();
  }

  private engineExited = false;

  get engineAlive(): boolean {
    return !this.engineExited;
  }

  /** Latest RTCP receiver-report view of each endpoint (from the engine). */
  private readonly rtcpView = new Map<string, Record<string, unknown>>();

  /** Starts the engine, pushes the zone tree and attaches fixed-address endpoints. */
  static async start(opts: BroadcastHostOptions): Promise<BroadcastHost> {
    const host = await BroadcastHost.startEarly(opts);
    try {
      await host.attachDatabase(opts.database);
    } catch (err) {
      await host.close();
      throw err;
    }
    return host;
  }

  /**
   * The engine without the database: the ledger is opened and, when the topology snapshot
   * beside it is whole, the zones, multicast groups and fixed-address endpoints it holds are
   * pushed to the engine (`fromSnapshot`), so the ledger's programmes can go back on air
   * (resumeRecovered) before the database opens. attachDatabase() then reconciles.
   */
  static async startEarly(opts: EarlyHostOptions & { snapshot?: Promise<SnapshotRead> }): Promise<BroadcastHost> {
    const log = opts.logger;
    const dir = opts.ledgerDir;
    const [engine, ledger, snapshot] = await Promise.all([
      opts.engine ?? startHostEngine(opts),
      dir === undefined ? undefined : ProgrammeLedger.open(dir, (err) => log.error({ err }, 'programme ledger could not be written; running programmes may not survive a restart')),
      opts.snapshot ?? (dir === undefined ? undefined : readTopologySnapshot(dir)),
    ]);
    const host = new BroadcastHost(engine, opts);
    if (ledger) {
      host.ledger = ledger.ledger;
      host.recoveredProgrammes = ledger.recovered;
    }
    if (dir !== undefined) host.snapshots = new TopologySnapshotWriter(dir, (err) => log.warn({ err }, 'topology snapshot could not be written; the next restart waits for the database'));
    if (snapshot?.ok) {
      host.applySnapshot(snapshot.snapshot);
    } else if (snapshot) {
      const level = snapshot.reason === 'missing' ? 'info' : 'warn';
      log[level]({ reason: snapshot.reason, dir }, 'no usable topology snapshot: programmes go back on air once the database is open');
    }
    opts.logger.info({ rtpPort: engine.rtpPort, publicHost: opts.publicHost ?? '(per connection)', sendBackend: engine.sendBackend.name, sendBackendReason: engine.sendBackend.reason ?? undefined }, 'media engine started');
    return host;
  }

  /** Set when the engine got its zones and attachments from the snapshot (before the database). */
  fromSnapshot: { writtenAtMs: number; zones: number; attachments: number } | undefined;
  private snapshots: TopologySnapshotWriter | undefined;

  private applySnapshot(snap: TopologySnapshot): void {
    this.zoneTree = snap.zones;
    this.engine.setZones(this.zoneTree);
    // Without a multicast interface nothing is sent: the database sync then logs why, as on any start.
    if (this.opts.multicast) {
      this.multicastSent = new Map(Object.entries(snap.multicast).map(([zone, g]) => [zone, JSON.stringify(g)]));
      for (const [zone, g] of Object.entries(snap.multicast)) this.engine.setZoneMulticast(zone, g);
    }
    for (const a of snap.attachments) {
      this.engine.attachEndpoint(a.command);
      this.attached.set(a.command.endpointId, { key: a.key, zoneId: a.command.zoneId, codec: a.command.codec, command: a.command });
    }
    this.fromSnapshot = { writtenAtMs: snap.writtenAtMs, zones: snap.zones.length, attachments: snap.attachments.length };
    this.opts.logger.info({ ...this.fromSnapshot, writtenAt: new Date(snap.writtenAtMs).toISOString() }, 'zones and endpoints from the topology snapshot, before the database');
  }

  /** The engine's topology as the snapshot keeps it: fixed-address attachments only. */
  private topology(): { zones: ZoneNode[]; multicast: Record<string, MulticastGroup>; attachments: SnapshotAttachment[] } {
    const multicast: Record<string, MulticastGroup> = {};
    if (this.opts.multicast) for (const [zone, g] of this.multicastSent) multicast[zone] = JSON.parse(g) as MulticastGroup;
    const attachments = [...this.attached.values()].filter((a) => a.command.address !== undefined).map((a) => ({ key: a.key, command: a.command }));
    return { zones: this.zoneTree, multicast, attachments };
  }

  private saveSnapshot(): void {
    if (!this.closing) this.snapshots?.save(this.topology());
  }

  /**
   * The database is open: endpoints marked offline (nobody is connected after a restart), the
   * zone tree, multicast groups and endpoints pushed from it. What the snapshot gave the engine
   * is reconciled like any change: the database is the truth (a database restored from a
   * backup older than the snapshot wins too), and only differences are sent.
   */
  async attachDatabase(database: Database): Promise<void> {
    this.database = database;
    const { StatsWriter } = await import('./stats-writer.js');
    this.stats = new StatsWriter(database.db, this.opts.logger, this.opts.statsWriteIntervalMs ?? 10_000);
    await this.db.updateTable('endpoints').set({ online: false }).where('online', '=', true).execute();
    const before = this.fromSnapshot && JSON.stringify(this.topology());
    await this.syncZones();
    if (before !== undefined) {
      const same = before === JSON.stringify(this.topology());
      this.opts.logger[same ? 'info' : 'warn'](
        { snapshotWrittenAt: new Date(this.fromSnapshot!.writtenAtMs).toISOString(), zones: this.zoneTree.length, attachments: this.topology().attachments.length },
        same ? 'topology snapshot agrees with the database' : 'topology snapshot differed from the database: the engine now has the database\'s zones and endpoints',
      );
    }
  }

  /** The UDP port the engine actually bound. */
  get rtpPort(): number {
    return this.engine.rtpPort;
  }

  /** Where an agent connected through `localAddress` sends its keepalives and RTCP. */
  rtpTargetFor(localAddress: string | undefined): { host: string; port: number } {
    const fromSocket = localAddress?.replace(/^::ffff:/, '');
    return { host: this.opts.publicHost ?? (fromSocket && fromSocket !== '::' ? fromSocket : '127.0.0.1'), port: this.engine.rtpPort };
  }

  /** Address put in SDP o= lines. */
  get originHost(): string {
    return this.opts.publicHost ?? this.opts.rtpBindHost ?? '127.0.0.1';
  }

  get controlOptions(): NonNullable<BroadcastHostOptions['control']> {
    return this.opts.control ?? {};
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  // ---- programmes ---------------------------------------------------------------

  /** Registers the programme in the catalog and hands it to the engine. */
  play(req: PlayRequest): HostedProgramme {
    if (this.closing) throw new Error('broadcast host is closed');
    const info: HostedProgramme = {
      programmeId: req.programmeId ?? newProgrammeId(),
      title: req.title,
      kind: req.kind,
      priority: req.priority,
      zoneIds: [...req.zoneIds],
      by: req.by,
      ...(req.entryId !== undefined && { entryId: req.entryId }),
      ...(req.airingId !== undefined && { airingId: req.airingId }),
      requestedAtMs: req.startAt ?? Date.now(),
      ...(req.request !== undefined && { request: req.request }),
    };
    this.catalog.register(info);
    if (req.resumption) info.resumption = true;
    const play: PlayOptions = {
      programmeId: info.programmeId,
      zones: info.zoneIds,
      priority: req.priority,
      source: req.source,
      ...(req.maxDurationMs !== undefined && { maxDurationMs: req.maxDurationMs }),
      ...(req.startAt !== undefined && { startAt: req.startAt }),
    };
    this.engine.play(play);
    // The engine first, the disk right after: an alert never waits on a write.
    this.remember(info, play, req);
    this.opts.logger.info({ programmeId: info.programmeId, kind: info.kind, zones: info.zoneIds, priority: info.priority, by: info.by }, 'programme started');
    return info;
  }

  /** Stops an active programme; false when it is not active. The catalog marks it ended on the engine's event. */
  stop(programmeId: string): boolean {
    const info = this.catalog.get(programmeId);
    if (!info || info.endedAtMs !== undefined) return false;
    this.engine.stop(programmeId);
    // Stopped means stopped, even if the server dies before the engine reports the end.
    this.ledger?.remove(programmeId);
    return true;
  }

  /**
   * Resolves once the engine says how a just-played programme started, from the engine's own
   * events: 'on-air' in some zone or 'waiting' (a higher priority holds every zone) from its
   * `programmeStarted` event, sent on the first frame that runs it; 'failed' when the engine
   * refused it, it ended before that frame, or the engine died. No status polling (it queued
   * behind frames and endpoint traffic: up to the old 1.5 s timeout at N = 1000).
   * `timeoutMs` only bounds a source that is slow to prepare (a file's prefetch): then
   * 'waiting', and the programme still starts when ready.
   */
  waitForStart(programmeId: string, timeoutMs = this.opts.startWaitMs ?? 1500): Promise<StartOutcome> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: StartOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.engine.off('programmeStarted', onStarted);
        this.engine.off('programme', onZone);
        this.engine.off('engineError', onError);
        this.engine.off('programmeEnded', onEnded);
        this.engine.off('exit', onExit);
        resolve(o);
      };
      const onStarted = (e: ProgrammeStartedEvent) => {
        if (e.programmeId === programmeId) finish({ state: e.zones.some((z) => z.state === 'on-air') ? 'on-air' : 'waiting' });
      };
      // Kept for a programme that starts and ends on one frame (no programmeStarted then).
      const onZone = (e: ProgrammeZoneEvent) => {
        if (e.programmeId === programmeId && (e.state === 'on-air' || e.state === 'resumed')) finish({ state: 'on-air' });
      };
      const onError = (e: ErrorEvent) => {
        if (e.programmeId === programmeId && e.command === 'play') finish({ state: 'failed', code: e.code, message: e.message });
      };
      const onEnded = (e: ProgrammeEndedEvent) => {
        if (e.programmeId === programmeId) finish({ state: 'failed', code: 'ended', message: `${e.reason}${e.message ? `: ${e.message}` : ''}` });
      };
      const onExit = () => finish({ state: 'failed', code: 'internal', message: 'media engine is not running' });
      this.engine.on('programmeStarted', onStarted);
      this.engine.on('programme', onZone);
      this.engine.on('engineError', onError);
      this.engine.on('programmeEnded', onEnded);
      this.engine.on('exit', onExit);
      const timer = setTimeout(() => finish({ state: 'waiting' }), timeoutMs);
      if (this.onAir.zonesOf(programmeId).length) finish({ state: 'on-air' });
      else if (this.engineExited) onExit();
    });
  }

  /** Programmes not yet ended, with their API-level request when they have one. */
  activeProgrammes(): HostedProgramme[] {
    return this.catalog.active();
  }

  status(): Promise<StatusEvent> {
    return this.engine.status();
  }

  // ---- zones ----------------------------------------------------------------------

  /** Never rejects: the change is already in the database; a failed sync is logged (and retried by the next one). */
  zonesChanged(): Promise<void> {
    return this.syncZones().catch((err) => this.opts.logger.error({ err }, 'could not push the zone tree to the media engine'));
  }

  endpointChanged(endpointId: string, opts: { credentialChanged?: boolean } = {}): Promise<void> {
    if (opts.credentialChanged) {
      const live = this.sessions.get(endpointId);
      // The agent holds the old credential: it must reconnect with the new one.
      live?.session.close(CONTROL_CLOSE.rejected, 'credential changed');
    }
    return this.syncEndpoint(endpointId).catch((err) => this.opts.logger.error({ err, endpointId }, 'could not update the endpoint in the media engine'));
  }

  /** Pushes the zone tree and multicast groups from the database, then reconciles every endpoint. */
  syncZones(): Promise<void> {
    return this.serial(async () => {
      const rows = await broadcastDb(this.db)
        .selectFrom('zones')
        .select(['id', 'parent_id', 'path', 'multicast_address', 'multicast_port', 'multicast_codec', 'multicast_ttl'])
        .orderBy('path')
        .execute();
      this.zoneTree = rows.map((r) => ({ id: r.id, parentId: r.parent_id }));
      this.engine.setZones(this.zoneTree);
      const ids = new Set(rows.map((r) => r.id));
      this.onAir.retain(ids);
      const groups = new Map<string, string>();
      for (const r of rows) {
        if (r.multicast_address !== null && r.multicast_port !== null && r.multicast_codec !== null) {
          const g: MulticastGroup = { address: r.multicast_address, port: r.multicast_port, codec: r.multicast_codec, ttl: r.multicast_ttl };
          groups.set(r.id, JSON.stringify(g));
        }
      }
      for (const [zone, g] of groups) {
        if (this.multicastSent.get(zone) === g) continue;
        if (!this.opts.multicast) {
          this.opts.logger.warn({ zoneId: zone }, 'zone has a multicast group but no multicast interface is configured (LOA_MULTICAST_INTERFACE)');
          continue;
        }
        this.engine.setZoneMulticast(zone, JSON.parse(g) as MulticastGroup);
      }
      for (const zone of this.multicastSent.keys()) {
        if (!groups.has(zone) && ids.has(zone) && this.opts.multicast) this.engine.setZoneMulticast(zone, null);
      }
      this.multicastSent = groups;
      await this.reconcileEndpoints(null);
      this.saveSnapshot();
    });
  }

  // ---- endpoints ------------------------------------------------------------------

  syncEndpoint(endpointId: string): Promise<void> {
    return this.serial(async () => {
      await this.reconcileEndpoints([endpointId]);
      this.saveSnapshot();
    });
  }

  syncEndpoints(): Promise<void> {
    return this.serial(async () => {
      await this.reconcileEndpoints(null);
      this.saveSnapshot();
    });
  }

  /** Endpoint ids with a connected agent. */
  onlineEndpoints(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * A control session authenticated: attach its endpoint (learned address) and mark it online.
   * A second connection of the same endpoint replaces the first.
   */
  sessionOnline(session: ControlServerSession, info: EndpointSessionInfo, rtp: { host: string; port: number }): Promise<void> {
    return this.serial(async () => {
      const previous = this.sessions.get(info.endpointId);
      this.sessions.set(info.endpointId, { session, info, rtp });
      if (previous && previous.session !== session) previous.session.close(CONTROL_CLOSE.replaced, 'replaced by a newer connection');
      await this.reconcileEndpoints([info.endpointId]);
      await this.db.updateTable('endpoints').set({ online: true, last_seen_at: new Date() }).where('id', '=', info.endpointId).execute();
      this.opts.logger.info({ endpointId: info.endpointId, zoneId: info.zoneId, codec: info.codec, agent: info.agentVersion, remote: info.remoteAddress }, 'endpoint online');
    });
  }

  /** A control session ended: detach (or fall back to a fixed address) and mark offline. */
  sessionOffline(session: ControlServerSession, info: EndpointSessionInfo, reason: string): Promise<void> {
    return this.serial(async () => {
      if (this.sessions.get(info.endpointId)?.session !== session) return; // replaced: the newer one owns the endpoint
      this.sessions.delete(info.endpointId);
      await this.stats?.flushAll();
      await this.reconcileEndpoints([info.endpointId]);
      await this.db.updateTable('endpoints').set({ online: false, last_seen_at: new Date() }).where('id', '=', info.endpointId).execute();
      this.opts.logger.info({ endpointId: info.endpointId, reason }, 'endpoint offline');
    });
  }

  // ---- delivery reports (server/alerts/delivery.ts) ------------------------------------

  /** 'played': an agent played the first frame of a watched programme (atMs: its playout time, server clock). */
  readonly agentReports = new EventEmitter<{ played: [endpointId: string, programmeId: string, atMs: number] }>();

  /** Asks the agents connected in this zone to report when they play `programmeId` from `fromMs` on; their endpoint ids. */
  watchProgramme(zoneId: string, programmeId: string, fromMs: number): string[] {
    const asked: string[] = [];
    for (const [endpointId, live] of this.sessions) {
      if (live.info.zoneId !== zoneId) continue;
      live.session.sendWatch(programmeId, fromMs);
      asked.push(endpointId);
    }
    return asked;
  }

  /** How an endpoint is reached now: its agent's control session, a fixed address (RTP, no agent), or not at all. */
  endpointLink(endpointId: string): 'agent' | 'fixed' | 'none' {
    if (this.sessions.has(endpointId)) return 'agent';
    return this.attached.get(endpointId)?.key.startsWith('fixed:') ? 'fixed' : 'none';
  }

  /** From the control channel: an agent's 'played' report. */
  agentPlayed(info: EndpointSessionInfo, programmeId: string, atMs: number): void {
    if (this.sessions.get(info.endpointId)?.info !== info) return;
    this.agentReports.emit('played', info.endpointId, programmeId, atMs);
  }

  /** Latest stats of a connected agent (throttled to the database). */
  sessionStats(info: EndpointSessionInfo, stats: object): void {
    if (this.sessions.get(info.endpointId)?.info !== info) return;
    const rtcp = this.rtcpView.get(info.endpointId);
    this.stats?.offer(info.endpointId, { ...stats, codec: info.codec, zoneId: info.zoneId, ...(rtcp && { rtcp }), at: new Date().toISOString() });
  }

  private async reconcileEndpoints(ids: string[] | null): Promise<void> {
    let q = this.db.selectFrom('endpoints').innerJoin('zones', 'zones.id', 'endpoints.zone_id').selectAll('endpoints').select('zones.path as zone_path');
    if (ids) {
      if (ids.length === 0) return;
      q = q.where('endpoints.id', 'in', ids);
    }
    const rows = await q.execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const targets = ids ?? [...new Set([...byId.keys(), ...this.sessions.keys(), ...this.attached.keys()])];
    const delays = new Map<string, number>();
    for (const id of targets) {
      const row = byId.get(id);
      const live = this.sessions.get(id);
      if (!row || !row.enabled) {
        if (live) {
          this.sessions.delete(id);
          live.session.close(CONTROL_CLOSE.rejected, row ? 'endpoint disabled' : 'endpoint deleted');
        }
        this.detach(id);
        this.stats?.forget(id);
        continue;
      }
      if (live) {
        const codecs = endpointCodecs(row);
        if (!codecs.includes(live.info.codec as CodecName)) {
          // The agent negotiated a codec the endpoint no longer allows: renegotiate from scratch.
          this.sessions.delete(id);
          live.session.close(CONTROL_CLOSE.normal, 'codec no longer allowed');
          this.detach(id);
          continue;
        }
        let delay = delays.get(row.zone_path);
        if (delay === undefined) {
          delay = await effectivePlayoutDelay(this.db, row.zone_path, this.defaultPlayoutDelayMs);
          delays.set(row.zone_path, delay);
        }
        const moved = live.info.zoneId !== row.zone_id;
        const attachedNow = this.attachLearned(id, row.zone_id, live.info.codec as CodecName, live.info.mediaToken);
        if (moved || delay !== live.info.playoutDelayMs) {
          // The rtp target makes the agent send a keepalive at once, so the new attachment learns its address.
          live.session.sendConfig({
            ...(moved && { zoneId: row.zone_id }),
            ...(delay !== live.info.playoutDelayMs && { playoutDelayMs: delay }),
            ...(attachedNow && { rtp: live.rtp }),
          });
        }
        continue;
      }
      await this.attachFixed(row);
    }
  }

  /** Attaches with a learned address; true when an attach command was sent. */
  private attachLearned(endpointId: string, zoneId: string, codec: CodecName, token: string): boolean {
    const key = `learn:${zoneId}:${codec}:${token}`;
    if (this.attached.get(endpointId)?.key === key) return false;
    const command: AttachEndpointOptions = { endpointId, zoneId, codec, learn: { token } };
    this.engine.attachEndpoint(command);
    this.attached.set(endpointId, { key, zoneId, codec, command });
    return true;
  }

  /** Receive-only RTP devices: an address and port, no agent. */
  private async attachFixed(row: Endpoint): Promise<void> {
    if (row.kind !== 'rtp' || row.multicast || row.address === null || row.port === null) {
      this.detach(row.id);
      return;
    }
    let host = row.address;
    if (isIP(host) !== 4) {
      try {
        host = (await lookup(host, { family: 4 })).address;
      } catch (err) {
        this.opts.logger.warn({ endpointId: row.id, address: row.address, err: (err as Error).message }, 'cannot resolve endpoint address; not attached');
        this.detach(row.id);
        return;
      }
    }
    const codec = endpointCodecs(row)[0];
    const key = `fixed:${row.zone_id}:${codec}:${host}:${row.port}`;
    if (this.attached.get(row.id)?.key === key) return;
    const command: AttachEndpointOptions = { endpointId: row.id, zoneId: row.zone_id, codec, address: { host, port: row.port } };
    this.engine.attachEndpoint(command);
    this.attached.set(row.id, { key, zoneId: row.zone_id, codec, command });
  }

  private detach(endpointId: string): void {
    if (!this.attached.delete(endpointId)) return;
    this.engine.detachEndpoint(endpointId);
  }

  // ---- supervision and programmes that survive a crash --------------------------------
  //
  // The worker holds nothing that cannot be rebuilt from here: the zone tree last pushed,
  // the attachments (with the commands that made them), the multicast groups, and every
  // running programme's play command with its playhead (from the engine's events). When the
  // worker dies, a new one is started on the same RTP port and given all of it back, in
  // memory, without the database (which may be the reason things are going wrong).

  /** Manual/emergency programmes that survive a restart (undefined: no ledgerDir). */
  ledger: ProgrammeLedger | undefined;
  /** What the previous run left in the ledger, until resumeRecovered() puts it back on air. */
  recoveredProgrammes: DurableProgramme[] = [];
  readonly playheads = new PlayheadTracker();
  /** Play commands of programmes not yet ended (as last sent), for a restarted worker. */
  private readonly plays = new Map<string, PlayOptions>();
  private zoneTree: ZoneNode[] = [];
  private restarting: Promise<void> | undefined;
  /** Worker restarts done, and how long the last one took (death → back on air), for status and tests. */
  engineRestarts = 0;
  lastRestartMs: number | undefined;

  private superviseEngine(): void {
    const engine = this.engine;
    engine.on('programme', (e) => {
      if (this.playheads.apply(e) && this.ledger?.has(e.programmeId)) {
        const head = this.playheads.get(e.programmeId);
        if (head) this.ledger.setPlayhead(e.programmeId, head);
      }
    });
    engine.on('programmeEnded', (e) => this.forgetProgramme(e.programmeId));
    engine.on('engineError', (e) => {
      if (e.command === 'play' && e.programmeId && e.code !== 'duplicate-programme') this.forgetProgramme(e.programmeId);
    });
    engine.on('died', (err) => {
      if (this.closing) return;
      this.engineExited = true;
      this.onAir.clear();
      this.opts.logger.error({ err: err.message }, 'media worker died; restarting it');
      this.restarting ??= this.restartEngine(Date.now()).finally(() => (this.restarting = undefined));
    });
  }

  private remember(info: HostedProgramme, play: PlayOptions, req: PlayRequest): void {
    this.plays.set(info.programmeId, play);
    if (!this.ledger || !(req.durable ?? true)) return;
    this.ledger.put({
      programmeId: info.programmeId,
      zoneIds: info.zoneIds,
      priority: info.priority,
      source: req.source,
      ...(req.maxDurationMs !== undefined && { maxDurationMs: req.maxDurationMs }),
      ...(req.startAt !== undefined && { startAt: req.startAt }),
      title: info.title,
      kind: info.kind,
      by: info.by,
      ...(req.request !== undefined && { request: req.request }),
      requestedAtMs: info.requestedAtMs,
      ...(req.entryId !== undefined && { entryId: req.entryId }),
      ...(req.airingId !== undefined && { airingId: req.airingId }),
    });
  }

  private forgetProgramme(programmeId: string): void {
    this.plays.delete(programmeId);
    this.playheads.forget(programmeId);
    this.ledger?.remove(programmeId);
  }

  /** Restarts the worker (backing off while it fails), then gives it back what it had. */
  private async restartEngine(diedAtMs: number): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      try {
        await this.engine.restart();
        break;
      } catch (err) {
        const waitMs = Math.min(10_000, 250 * 2 ** (attempt - 1));
        this.opts.logger.error({ err: (err as Error).message, attempt, retryInMs: waitMs }, 'media worker could not be restarted; retrying');
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
    if (this.closing) return;
    this.restoreEngine();
    this.engineExited = false;
    this.engineRestarts++;
    this.lastRestartMs = Date.now() - diedAtMs;
    this.opts.logger.warn({ restartMs: this.lastRestartMs, programmes: this.plays.size, endpoints: this.attached.size }, 'media worker restarted; programmes put back on air at their offset');
  }

  /** Zones, multicast groups, endpoints and programmes, pushed to a fresh worker. */
  private restoreEngine(): void {
    this.engine.setZones(this.zoneTree);
    if (this.opts.multicast) for (const [zone, g] of this.multicastSent) this.engine.setZoneMulticast(zone, JSON.parse(g) as MulticastGroup);
    for (const a of this.attached.values()) this.engine.attachEndpoint(a.command);
    // Agents learn the new worker nothing by themselves until their next keepalive (5 s):
    // a config with the RTP target makes them send one at once.
    for (const live of this.sessions.values()) live.session.sendConfig({ rtp: live.rtp });
    const now = Date.now();
    for (const [programmeId, play] of [...this.plays]) {
      const info = this.catalog.get(programmeId);
      if (!info || info.endedAtMs !== undefined) {
        this.plays.delete(programmeId);
        continue;
      }
      const resumed = this.playAtOffset(play, this.playheads.get(programmeId), now);
      if (!resumed) {
        this.catalog.markEnded(programmeId, now);
        this.forgetProgramme(programmeId);
        this.opts.logger.info({ programmeId }, 'programme ended while the media worker was down');
        continue;
      }
      info.resumption = true;
      this.engine.play(resumed);
    }
  }

  /**
   * The play command that continues `play` from where its playhead says it is (wall clock:
   * a programme goes on while the worker or server is down, as the timetable does), starting
   * on a frame a little ahead so a file can seek and prefetch; undefined when it is over.
   */
  private playAtOffset(play: PlayOptions, head: Playhead | undefined, nowMs: number): PlayOptions | undefined {
    const resumeAt = nowMs + resumeMarginMs(play.source);
    if (play.startAt !== undefined && play.startAt > resumeAt && !head) return play; // not due yet
    const source = sourceAtOffset(play.source, head ? playheadPosition(head, resumeAt) : undefined);
    if (!source) return undefined;
    let maxDurationMs = play.maxDurationMs;
    if (maxDurationMs !== undefined && head?.firstAirAtMs !== undefined) {
      maxDurationMs -= resumeAt - head.firstAirAtMs;
      if (maxDurationMs <= 0) return undefined;
    }
    this.playheads.setBase(play.programmeId, source.positionBaseMs, head);
    return {
      ...play,
      source: source.spec,
      startAt: resumeAt,
      ...(maxDurationMs !== undefined && { maxDurationMs }),
    };
  }

  /**
   * After a server restart: puts what the ledger held back on air at its offset, unless it
   * has expired (`expired` may also say so, e.g. a file shorter than the offset). The as-run
   * recorder must be listening already, so the resumed rows are logged.
   */
  resumeRecovered(expired: (p: DurableProgramme, offsetMs: number) => boolean = () => false): { resumed: string[]; expired: string[] } {
    const out = { resumed: [] as string[], expired: [] as string[] };
    const now = Date.now();
    for (const p of this.recoveredProgrammes.splice(0)) {
      // A timetable airing handed over ahead of its start and never on air: the timetable hands it over again.
      if (p.airingId !== undefined && !p.playhead) continue;
      const original: PlayOptions = {
        programmeId: p.programmeId,
        zones: p.zoneIds,
        priority: p.priority,
        source: p.source,
        ...(p.maxDurationMs !== undefined && { maxDurationMs: p.maxDurationMs }),
        ...(p.startAt !== undefined && { startAt: p.startAt }),
      };
      const play = this.playAtOffset(original, p.playhead, now);
      const offset = p.playhead ? playheadPosition(p.playhead, play?.startAt ?? now) : (p.source.kind === 'file' ? (p.source.startMs ?? 0) : 0);
      if (!play || expired(p, offset)) {
        this.playheads.forget(p.programmeId);
        out.expired.push(p.programmeId);
        continue;
      }
      const info: HostedProgramme = {
        programmeId: p.programmeId,
        title: p.title,
        kind: p.kind,
        priority: p.priority,
        zoneIds: [...p.zoneIds],
        by: p.by,
        requestedAtMs: p.requestedAtMs,
        resumption: true,
        ...(p.request !== undefined && { request: p.request }),
        ...(p.entryId !== undefined && { entryId: p.entryId }),
        ...(p.airingId !== undefined && { airingId: p.airingId }),
      };
      this.catalog.register(info);
      this.engine.play(play);
      this.plays.set(p.programmeId, original);
      this.ledger?.put({ ...p });
      if (p.airingId !== undefined) this.ledgerAirings.set(p.airingId, p.programmeId);
      out.resumed.push(p.programmeId);
    }
    // The file still lists the expired ones: write what is running now.
    this.ledger?.rewrite();
    return out;
  }

  /** Timetable airings put back on air from the ledger (airing id → programme id), until the timetable adopts them. */
  private readonly ledgerAirings = new Map<string, string>();

  /**
   * The timetable, loaded from the database, finds `airingId` should be on air now (`expected`:
   * its play command at this offset; undefined when it cannot be played). When the ledger
   * already put it back on air the same way (zones, priority, file), the timetable adopts that
   * programme ('adopted'); when the database says otherwise (a database restored from a
   * backup, a file gone), the ledger's is stopped ('replaced': hand over under a new id).
   */
  adoptAiring(airingId: string, expected: PlayOptions | undefined): { state: 'adopted'; programmeId: string } | { state: 'replaced' | 'none' } {
    const programmeId = this.ledgerAirings.get(airingId);
    if (programmeId === undefined) return { state: 'none' };
    this.ledgerAirings.delete(airingId);
    const play = this.plays.get(programmeId);
    const info = this.catalog.get(programmeId);
    if (!play || !info || info.endedAtMs !== undefined) return { state: 'none' };
    if (expected && sameAiring(play, expected)) return { state: 'adopted', programmeId };
    this.opts.logger.warn({ airingId, programmeId }, 'timetable airing put back on air from the ledger differs from the database: replaced');
    this.stop(programmeId);
    return { state: 'replaced' };
  }

  /** After the timetable started: ledger airings it did not adopt are not on air by the database: stopped. */
  settleLedgerAirings(): string[] {
    const stopped: string[] = [];
    for (const [airingId, programmeId] of this.ledgerAirings) {
      if (this.stop(programmeId)) stopped.push(programmeId);
      this.opts.logger.warn({ airingId, programmeId }, 'timetable airing put back on air from the ledger is not on air by the database: stopped');
    }
    this.ledgerAirings.clear();
    return stopped;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch((err) => this.opts.logger.error({ err }, 'broadcast sync failed'));
    return run;
  }

  /** Disconnects every agent, flushes stats, stops the engine (its sockets and worker). */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      for (const live of this.sessions.values()) live.session.close(CONTROL_CLOSE.normal, 'server shutting down');
      await this.queue.catch(() => {});
      const ids = [...this.sessions.keys()];
      this.sessions.clear();
      await this.stats?.close();
      if (ids.length && this.database) {
        await this.db
          .updateTable('endpoints')
          .set({ online: false, last_seen_at: new Date() })
          .where('id', 'in', ids)
          .execute()
          .catch((err) => this.opts.logger.warn({ err }, 'could not mark endpoints offline'));
      }
      await this.engine.close();
      await this.ledger?.flushed();
      await this.snapshots?.flushed();
    })());
  }
}

/** Files a source plays (a sequence's, a gain's), to compare two plays of one airing at different offsets. */
function filesOf(spec: SourceSpec): string[] {
  switch (spec.kind) {
    case 'file':
      return [spec.path];
    case 'sequence':
      return spec.items.flatMap(filesOf);
    case 'gain':
      return filesOf(spec.source);
    default:
      return [spec.kind];
  }
}

/** The same airing: zones, priority, and the last file it plays (a resumed playlist drops those already played). */
function sameAiring(a: PlayOptions, b: PlayOptions): boolean {
  const za = [...a.zones].sort().join(' ');
  const zb = [...b.zones].sort().join(' ');
  return za === zb && a.priority === b.priority && filesOf(a.source).at(-1) === filesOf(b.source).at(-1);
}
