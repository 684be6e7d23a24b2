/**
 * UDP ports for real peers: a free even/odd pair (RTP + RTCP), and waiting
 * until a peer has really bound its port (and joined its group) by reading
 * the kernel's tables in /proc/net — never by binding the port ourselves,
 * which would race the peer for it. /proc/net is the reader's network
 * namespace, so inside `ip netns exec` it shows the namespace's sockets.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

/** An even port whose odd neighbour (RTCP) is free too, on `host`. */
export async function freeRtpPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 20000);
    const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
    const ok = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<boolean>((resolve) => {
            s.once('error', () => resolve(false));
            s.bind(port + i, host, () => resolve(true));
          }),
      ),
    );
    await Promise.all(sockets.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok.every(Boolean) && !udpPortBound(port) && !udpPortBound(port + 1)) return port;
  }
  throw new Error('no free RTP port pair');
}

/** How many IPv4 UDP sockets of this namespace are bound to `port` (any address). */
export function udpSocketsOnPort(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim().split(/\s+/)[1]?.endsWith(hex)).length;
}

export function udpPortBound(port: number): boolean {
  return udpSocketsOnPort(port) > 0;
}

/** Members of an IPv4 multicast group on any interface of this namespace (/proc/net/igmp "Users"). */
export function groupUsers(group: string): number {
  // /proc/net/igmp prints the group as the in-memory (network order) u32 in hex: 239.255.1.2 → 0201FFEF on little-endian.
  const bytes = group.split('.').map(Number);
  const hex = bytes
    .reverse()
    .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
    .join('');
  let users = 0;
  for (const line of readFileSync('/proc/net/igmp', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === hex && /^\d+$/.test(f[1] ?? '')) users += Number(f[1]);
  }
  return users;
}

/** Resolves once `ready()` holds; rejects with `what` after timeoutMs. */
export async function waitFor(what: string, ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
