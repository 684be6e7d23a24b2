/**
 * CPU cost of one send on the fan-out path. dgram, three ways: without a
 * callback (errors lost), with the one shared callback per destination the
 * engine uses (engine/fanout.ts), and to destinations that fail (ENETUNREACH:
 * Node builds an Error per failed send), with and without its stack trace.
 * Then the engine's Fanout on each backend (engine/send-backend.ts): dgram, and
 * the native sendmmsg addon (if built), to reachable and to failing destinations.
 * Run it in a namespace whose veth
 * peer drops everything, so only the send itself is measured:
 *
 *   ip netns add b; ip -n b link add v0 type veth peer name v1
 *   ip -n b addr add 198.18.0.1/16 dev v0; ip -n b link set v0 up; ip -n b link set v1 up; ip -n b link set v0 arp off
 *   ip netns exec b node --import tsx bench/send-cost.ts [destinations=500] [frames=200] [rounds=6]
 *
 * Prints CPU ns per send (user + system) of each round and the medians.
 */
import dgram from 'node:dgram';
import { Fanout } from '../engine/fanout.js';
import { literalLookup } from '../engine/literal-lookup.js';
import { DGRAM_BACKEND, loadNativeSend, type SendBackend } from '../engine/send-backend.js';

const [n = 500, frames = 200, rounds = 6] = process.argv.slice(2).map(Number);
const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
await new Promise<void>((r) => socket.bind(0, () => r()));
const buf = Buffer.alloc(172); // a PCMU packet
interface Dest {
  host: string;
  port: number;
  errors: number;
  onSent: (err: Error | null) => void;
}
const make = (host: (i: number) => string): Dest[] =>
  Array.from({ length: n }, (_, i) => {
    const d: Dest = { host: host(i), port: 40_000 + i, errors: 0, onSent: (err) => void (err && d.errors++) };
    return d;
  });
const reachable = make((i) => `198.18.${1 + (i >> 8)}.${i & 255}`);
const unroutable = make((i) => `203.0.113.${i & 255}`); // no route in the namespace

const addon = loadNativeSend();
const native: SendBackend | undefined = addon.native ? { name: 'sendmmsg', native: addon.native, reason: null } : undefined;
if (!native) console.log(`sendmmsg rows skipped: ${addon.error}`);
const totals = { sendErrors: 0, sendDropped: 0 };
const fanoutOf = (backend: SendBackend, list: Dest[]): Fanout => {
  const f = new Fanout({ maxQueued: 1 << 30, totals, backend });
  list.forEach((d, i) => f.set({ key: String(i), host: d.host, port: d.port, rtcpPort: d.port, socket }));
  return f;
};
const fanouts = {
  'Fanout dgram': fanoutOf(DGRAM_BACKEND, reachable),
  ...(native && { 'Fanout sendmmsg': fanoutOf(native, reachable), 'Fanout sendmmsg, failing': fanoutOf(native, unroutable) }),
} as Record<string, Fanout>;

type Mode = 'no callback' | 'shared callback' | 'failing (ENETUNREACH)' | 'failing, no stack' | 'Fanout dgram' | 'Fanout sendmmsg' | 'Fanout sendmmsg, failing';
async function round(mode: Mode): Promise<number> {
  const list = mode.startsWith('failing') ? unroutable : reachable;
  const fanout = fanouts[mode];
  const c0 = process.cpuUsage();
  for (let f = 0; f < frames; f++) {
    if (fanout) fanout.send(buf, buf.length);
    else if (mode === 'no callback') for (const d of list) socket.send(buf, 0, buf.length, d.port, d.host);
    else {
      // What engine/fanout.ts does: no stack trace for the Error Node builds on a failed send.
      const limit = Error.stackTraceLimit;
      if (mode === 'failing, no stack') Error.stackTraceLimit = 0;
      for (const d of list) socket.send(buf, 0, buf.length, d.port, d.host, d.onSent);
      Error.stackTraceLimit = limit;
    }
    await new Promise((r) => setImmediate(r));
  }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / (n * frames);
}

const modes = (['no callback', 'shared callback', 'failing (ENETUNREACH)', 'failing, no stack', 'Fanout dgram', 'Fanout sendmmsg', 'Fanout sendmmsg, failing'] as Mode[]).filter(
  (m) => !m.startsWith('Fanout') || fanouts[m],
);
const results = new Map<Mode, number[]>(modes.map((m) => [m, []]));
for (let k = 0; k < rounds; k++) for (const m of modes) results.get(m)!.push(await round(m));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const m of modes) console.log(`${m.padEnd(25)} median ${Math.round(median(results.get(m)!))} ns/send  rounds ${results.get(m)!.map(Math.round).join(' ')}`);
console.log(`errors counted on failing sends: ${unroutable.reduce((a, d) => a + d.errors, 0)} of ${2 * n * frames * rounds}`);
if (fanouts['Fanout sendmmsg, failing']) console.log(`errors counted by the sendmmsg fan-out: ${totals.sendErrors} of ${n * frames * rounds}`);
socket.close();
