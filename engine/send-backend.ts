/**
 * How the fan-out hands datagrams to the kernel, chosen once at start:
 *
 * - 'sendmmsg': the native addon (native/loa_send.c) sends one packet to a
 *   whole run of destinations in one system call per 256. Measured on this
 *   2-core VM (bench/send-cost.ts): ≈ 2.8 µs per datagram against ≈ 8–9 µs
 *   through dgram.send, which capped the media worker at ≈ 2,400 endpoints.
 * - 'dgram': Node's dgram.send per destination; used where the addon did not
 *   build or load (not Linux, no compiler at install), or when forced with
 *   LOA_SEND_BACKEND=dgram (tests, comparison).
 *
 * The choice and its reason are reported: the worker's ready event, the
 * status counters, and the server's start log line.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The addon's exports (see native/loa_send.c). */
export interface NativeSend {
  /** Size of one address record (sockaddr_in6). */
  readonly ADDRESS_BYTES: number;
  /** Writes the sockaddr of an IP literal at target[offset]; 4 or 6, or 0 if host is no IP literal. */
  writeAddress(target: Buffer, offset: number, host: string, port: number): number;
  /**
   * Sends data[0, length) to the address records [from, to). Refused datagrams are
   * written to errors as (index, errno) pairs after errors[0] = their count. Returns the
   * index reached: `to`, or the first one not attempted (socket buffer full, or errors full).
   */
  send(fd: number, data: Buffer, length: number, addresses: Buffer, from: number, to: number, errors: Int32Array): number;
}

export type SendBackendName = 'sendmmsg' | 'dgram';

export interface SendBackend {
  readonly name: SendBackendName;
  /** Null for 'dgram'. */
  readonly native: NativeSend | null;
  /** Why 'dgram' was chosen (null for 'sendmmsg'). */
  readonly reason: string | null;
}

export const DGRAM_BACKEND: SendBackend = Object.freeze({ name: 'dgram', native: null, reason: 'forced (LOA_SEND_BACKEND=dgram)' });

/** Where the addon lands: native/ at the package root, from engine/ (tsx) or dist/engine/ (built). */
const ADDON_CANDIDATES = ['../native/build/Release/loa_send.node', '../../native/build/Release/loa_send.node'];

let loaded: { native: NativeSend | null; error: string | null } | undefined;

/** Loads the addon once per thread (each worker thread gets its own instance). */
export function loadNativeSend(): { native: NativeSend | null; error: string | null } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = ADDON_CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url))).find((f) => existsSync(f));
  if (process.platform !== 'linux') loaded = { native: null, error: `no sendmmsg on ${process.platform}` };
  else if (!file) loaded = { native: null, error: 'native/build/Release/loa_send.node not built (npm install builds it; see native/build.mjs)' };
  else {
    try {
      const m = require(file) as NativeSend;
      if (typeof m.send !== 'function' || typeof m.writeAddress !== 'function') throw new Error('unexpected exports');
      loaded = { native: m, error: null };
    } catch (err) {
      loaded = { native: null, error: `could not load ${file}: ${(err as Error).message}` };
    }
  }
  return loaded;
}

/**
 * The backend asked for by LOA_SEND_BACKEND: 'dgram', 'sendmmsg', or 'auto'/unset (the addon
 * if it loads). Any other value throws (the worker then fails to start, naming the setting).
 */
export function chooseSendBackend(env: NodeJS.ProcessEnv = process.env): SendBackend {
  const want = env.LOA_SEND_BACKEND || 'auto';
  if (want !== 'auto' && want !== 'sendmmsg' && want !== 'dgram') throw new Error(`LOA_SEND_BACKEND must be auto, sendmmsg or dgram (got "${want}")`);
  if (want === 'dgram') return DGRAM_BACKEND;
  const { native, error } = loadNativeSend();
  if (native) return { name: 'sendmmsg', native, reason: null };
  return { name: 'dgram', native: null, reason: want === 'sendmmsg' ? `LOA_SEND_BACKEND=sendmmsg but ${error}` : error };
}

let chosen: SendBackend | undefined;

/** The backend of this thread, chosen on first use. */
export function defaultSendBackend(): SendBackend {
  return (chosen ??= chooseSendBackend());
}

let stateKey: symbol | null | undefined;

/**
 * The file descriptor of a bound dgram socket, or -1 (not bound, closed). Read through
 * Node's internal state rather than `socket._handle`, whose getter prints a deprecation
 * warning (DEP0112). Read on every use, never cached: a closed socket's number can be
 * reused by the next file opened.
 */
export function socketFd(socket: Socket): number {
  if (stateKey === undefined) stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol') ?? null;
  if (stateKey === null) return -1;
  const handle = (socket as unknown as Record<symbol, { handle?: { fd?: number } | null } | undefined>)[stateKey]?.handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}
