/**
 * The media plane seen from the control plane (main thread): `Engine.start`
 * spawns the worker (engine/worker.js next to engine.js in dist/, or
 * engine/worker.ts next to engine.ts from sources: same extension as this file), typed methods send
 * the protocol's commands, and the worker's events come out as typed
 * EventEmitter events named after their `type` — except the protocol's
 * `error` events, emitted as 'engineError' (an unhandled 'error' event would
 * throw in the caller's process). Every event is also emitted as 'event'.
 *
 * Like mediasoup's Worker, a worker that ends without close() emits 'died';
 * whoever supervises the engine calls restart(), which spawns a fresh worker
 * on the same RTP port behind the same Engine object (listeners stay), and
 * then puts back zones, endpoints and programmes (the worker keeps no state
 * worth saving: server/broadcast/engine-supervision.ts).
 */
import { EventEmitter } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MulticastOptions } from './plane.js';
import type {
  AttachEndpointCommand,
  Command,
  CommandOf,
  EndpointAddressEvent,
  EndpointStatsEvent,
  EngineEvent,
  ErrorEvent,
  PlayCommand,
  ProgrammeEndedEvent,
  ProgrammeStartedEvent,
  ProgrammeZoneEvent,
  ReadyEvent,
  StatusEvent,
  StreamStatsEvent,
  ZoneNode,
} from './protocol.js';
import type { WorkerOptions } from './worker.js';

export interface EngineStartOptions {
  /** UDP port RTP is sent from and agents' keepalives/RTCP arrive on (0: any free port). */
  rtpPort: number;
  rtpHost?: string;
  multicast?: MulticastOptions;
  /** Only 1 today (sharding zones over several workers is future work). */
  workerCount?: 1;
  statsIntervalMs?: number;
  /** Rejects if the worker is not ready in time (default 30 s). */
  startTimeoutMs?: number;
  /** Lets crashForTest() make the worker throw (tests of supervision only). */
  testHooks?: boolean;
}

export interface EngineEvents {
  programme: [ProgrammeZoneEvent];
  programmeEnded: [ProgrammeEndedEvent];
  programmeStarted: [ProgrammeStartedEvent];
  endpointAddress: [EndpointAddressEvent];
  endpointStats: [EndpointStatsEvent];
  streamStats: [StreamStatsEvent];
  engineError: [ErrorEvent];
  event: [EngineEvent];
  /** The worker exited (after close(), or by a crash: then `code` != 0). */
  exit: [code: number];
  /** The worker ended without close() (a crash): the media plane is gone until restart(). */
  died: [error: Error];
  /** restart() brought a fresh worker up (empty: no zones, endpoints or programmes). */
  restarted: [];
}

export type PlayOptions = Omit<PlayCommand, 'type'>;
export type AttachEndpointOptions = Omit<AttachEndpointCommand, 'type'>;

/**
 * Compiled JS (dist/): the worker file runs as is. From TypeScript sources
 * (tests, `tsx`): a loader that the parent registered does not reach a worker
 * thread on Node 20 (`--import tsx` in execArgv fails with "Unknown file
 * extension .ts"; tap's ts-node loader is inherited but compiles for seconds
 * in a fresh thread), so a tiny bootstrap registers tsx's esbuild loader in
 * the worker and imports worker.ts (≈ 0.6 s).
 */
function spawnWorker(workerUrl: URL, workerData: WorkerOptions): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, { workerData });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { eval: true, workerData, execArgv: ['--enable-source-maps'] });
}

interface SpawnedWorker {
  worker: Worker;
  rtpPort: number;
  wallT0: number;
  sendBackend?: ReadyEvent['sendBackend'];
  sendBackendReason?: string | null;
}

/** Spawns a worker and waits for its 'ready' (rejects on startFailed, exit or timeout). */
function spawnReady(opts: EngineStartOptions): Promise<SpawnedWorker> {
  const here = fileURLToPath(import.meta.url);
  const workerUrl = new URL(`./worker${extname(here)}`, import.meta.url);
  const workerData: WorkerOptions = {
    rtpPort: opts.rtpPort,
    rtpHost: opts.rtpHost,
    multicast: opts.multicast,
    statsIntervalMs: opts.statsIntervalMs,
    ...(opts.testHooks && { testHooks: true }),
  };
  const worker = spawnWorker(workerUrl, workerData);
  return new Promise<SpawnedWorker>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      void worker.terminate();
      reject(new Error('engine worker did not start in time'));
    }, opts.startTimeoutMs ?? 30_000);
    const onMessage = (m: { type: string; rtpPort?: number; wallT0?: number; message?: string } & Partial<ReadyEvent>): void => {
      if (m.type === 'ready') {
        cleanup();
        resolve({ worker, rtpPort: m.rtpPort!, wallT0: m.wallT0!, sendBackend: m.sendBackend, sendBackendReason: m.sendBackendReason });
      } else if (m.type === 'startFailed') {
        cleanup();
        void worker.terminate();
        reject(new Error(`engine worker failed to start: ${m.message}`));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`engine worker exited with code ${code} before it was ready`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

export class Engine extends EventEmitter<EngineEvents> {
  private nextRequest = 0;
  private readonly pendingStatus = new Map<string, { resolve: (s: StatusEvent) => void; reject: (e: Error) => void }>();
  private worker!: Worker;
  private exited = false;
  private closed = false;
  private exitPromise!: Promise<number>;
  private lastError: Error | undefined;
  private _rtpPort = 0;
  private _wallT0 = 0;
  private _sendBackend: { name: string; reason: string | null } = { name: 'dgram', reason: null };
  /** Workers started (1 + restarts), for status and tests. */
  generation = 0;

  private constructor(
    spawned: SpawnedWorker,
    private readonly startOptions: EngineStartOptions,
  ) {
    super();
    this.adopt(spawned);
  }

  /** The UDP port actually bound (kept across restarts). */
  get rtpPort(): number {
    return this._rtpPort;
  }

  /** Wall-clock epoch ms of the current worker clock's frame 0. */
  get wallT0(): number {
    return this._wallT0;
  }

  /** The worker's send backend ('sendmmsg' or 'dgram') and why it is 'dgram' when it is. */
  get sendBackend(): { name: string; reason: string | null } {
    return this._sendBackend;
  }

  /** False between a worker's death and the end of restart(). */
  get alive(): boolean {
    return !this.exited;
  }

  private adopt({ worker, rtpPort, wallT0, sendBackend, sendBackendReason }: SpawnedWorker): void {
    this.worker = worker;
    this._sendBackend = { name: sendBackend ?? 'dgram', reason: sendBackendReason ?? null };
    this._rtpPort = rtpPort;
    this._wallT0 = wallT0;
    this.exited = false;
    this.lastError = undefined;
    this.generation++;
    worker.on('message', (m: EngineEvent) => this.dispatch(m));
    this.exitPromise = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.exited = true;
        for (const p of this.pendingStatus.values()) p.reject(new Error('engine exited'));
        this.pendingStatus.clear();
        this.emit('exit', code);
        if (!this.closed) this.emit('died', this.lastError ?? new Error(`media worker exited with code ${code}`));
        resolve(code);
      });
    });
    worker.on('error', (err) => {
      this.lastError = err;
      this.dispatch({ type: 'error', code: 'internal', message: `worker crashed: ${err.message}` });
    });
  }

  static async start(opts: EngineStartOptions): Promise<Engine> {
    if (opts.workerCount !== undefined && opts.workerCount !== 1) throw new RangeError('workerCount: only 1 is supported');
    return new Engine(await spawnReady(opts), opts);
  }

  /**
   * After 'died': spawns a fresh worker on the same RTP port (agents keep sending there).
   * Resolves once it is ready and emits 'restarted'; rejects (the engine stays dead) if it
   * cannot start. Nothing is restored here: the supervisor pushes zones, endpoints, programmes.
   */
  async restart(): Promise<void> {
    if (this.closed) throw new Error('engine is closed');
    if (!this.exited) throw new Error('engine is running');
    const spawned = await spawnReady({ ...this.startOptions, rtpPort: this._rtpPort || this.startOptions.rtpPort });
    if (this.closed) {
      await spawned.worker.terminate();
      throw new Error('engine is closed');
    }
    this.adopt(spawned);
    this.emit('restarted');
  }

  /** Tests only (testHooks): makes the worker throw an uncaught error, as a bug would. */
  crashForTest(): void {
    this.send({ type: 'testCrash' });
  }

  setZones(zones: ZoneNode[]): void {
    this.send({ type: 'setZones', zones });
  }
  play(p: PlayOptions): void {
    this.send({ type: 'play', ...p });
  }
  stop(programmeId: string): void {
    this.send({ type: 'stop', programmeId });
  }
  attachEndpoint(a: AttachEndpointOptions): void {
    this.send({ type: 'attachEndpoint', ...a });
  }
  detachEndpoint(endpointId: string): void {
    this.send({ type: 'detachEndpoint', endpointId });
  }
  setZoneMulticast(zoneId: string, group: CommandOf<'setZoneMulticast'>['group']): void {
    this.send({ type: 'setZoneMulticast', zoneId, group });
  }

  status(): Promise<StatusEvent> {
    const requestId = `s${++this.nextRequest}`;
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error('engine is closed'));
      this.pendingStatus.set(requestId, { resolve, reject });
      this.send({ type: 'status', requestId });
    });
  }

  /** Sends a raw (possibly invalid) command: the worker validates everything. */
  send(command: Command | Record<string, unknown>): void {
    if (!this.exited) this.worker.postMessage(command);
  }

  /** Stops the media plane, closes its sockets and ends the worker (terminated if it hangs). */
  async close(timeoutMs = 3000): Promise<void> {
    this.closed = true;
    if (this.exited) return;
    this.send({ type: 'shutdown' });
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  private dispatch(e: EngineEvent): void {
    switch (e.type) {
      case 'status': {
        const done = this.pendingStatus.get(e.requestId);
        this.pendingStatus.delete(e.requestId);
        done?.resolve(e);
        break;
      }
      case 'programme':
        this.emit('programme', e);
        break;
      case 'programmeEnded':
        this.emit('programmeEnded', e);
        break;
      case 'programmeStarted':
        this.emit('programmeStarted', e);
        break;
      case 'endpointAddress':
        this.emit('endpointAddress', e);
        break;
      case 'endpointStats':
        this.emit('endpointStats', e);
        break;
      case 'streamStats':
        this.emit('streamStats', e);
        break;
      case 'error':
        this.emit('engineError', e);
        break;
      case 'ready':
        break;
    }
    this.emit('event', e);
  }
}
