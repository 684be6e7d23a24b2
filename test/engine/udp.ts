/** Real UDP receivers for tests: collect every datagram, close on teardown. */
import dgram, { type Socket } from 'node:dgram';

export interface Receiver {
  socket: Socket;
  port: number;
  packets: Buffer[];
  close(): Promise<void>;
}

export async function receiver(host = '127.0.0.1'): Promise<Receiver> {
  const socket = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (m) => packets.push(Buffer.from(m)));
  await new Promise<void>((r) => socket.bind(0, host, () => r()));
  return {
    socket,
    port: socket.address().port,
    packets,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** Waits (real time) until `cond` holds or `ms` passed. */
export async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

export const isRtcp = (b: Buffer): boolean => b.length >= 2 && b[1] >= 192 && b[1] <= 223;
