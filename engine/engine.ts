/**
 * The media plane seen from the control plane (main thread): `Engine.start`
 * spawns the worker (engine/worker.js next to engine.js in dist/, or
 * engine/worker.ts next to engine.ts from sources: same extension as this file), typed methods send
 * the protocol's commands, and the worker's events come out as typed
 * EventEmitter events named after their `type` — except the protocol's
 * `error` events, emitted as 'engineError' (an unhandled 'error' event would
 * throw in the caller's process). Every event is also emitted as 'event'.
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

export class Engine extends EventEmitter<EngineEvents> {
  private nextRequest = 0;
  private readonly pendingStatus = new Map<string, { resolve: (s: StatusEvent) => void; reject: (e: Error) => void }>();
  private exited = false;
  private exitPromise: Promise<number>;

  private constructor(
    private readonly worker: Worker,
    /** The UDP port actually bound. */
    readonly rtpPort: number,
    /** Wall-clock epoch ms of the worker clock's frame 0. */
    readonly wallT0: number,
  ) {
    super();
    worker.on('message', (m: EngineEvent) => this.dispatch(m));
    this.exitPromise = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.exited = true;
        for (const p of this.pendingStatus.values()) p.reject(new Error('engine exited'));
        this.pendingStatus.clear();
        this.emit('exit', code);
        resolve(code);
      });
    });
    worker.on('error', (err) => {
      this.dispatch({ type: 'error', code: 'internal', message: `worker crashed: ${err.message}` });
    });
  }

  static async start(opts: EngineStartOptions): Promise<Engine> {
    if (opts.workerCount !== undefined && opts.workerCount !== 1) throw new RangeError('workerCount: only 1 is supported');
    const here = fileURLToPath(import.meta.url);
    const workerUrl = new URL(`./worker${extname(here)}`, import.meta.url);
    const workerData: WorkerOptions = { rtpPort: opts.rtpPort, rtpHost: opts.rtpHost, multicast: opts.multicast, statsIntervalMs: opts.statsIntervalMs };
    const worker = spawnWorker(workerUrl, workerData);
    return new Promise<Engine>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        void worker.terminate();
        reject(new Error('engine worker did not start in time'));
      }, opts.startTimeoutMs ?? 30_000);
      const onMessage = (m: { type: string; rtpPort?: number; wallT0?: number; message?: string }): void => {
        if (m.type === 'ready') {
          cleanup();
          resolve(new Engine(worker, m.rtpPort!, m.wallT0!));
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
