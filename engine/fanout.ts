/**
 * Sends the same bytes to every destination of a zone stream: fan-out is N
 * sends of one buffer, never N encodes. Destinations are IP literals (learned
 * from packets, or validated when configured) so no lookup is needed.
 * Send errors surface on the socket's 'error' event (counted by its owner),
 * so the hot path allocates no callback per packet.
 */
import type { Socket } from 'node:dgram';

export interface Destination {
  /** Unique per stream: the endpoint id, or 'multicast'. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Where RTCP sender reports go (== port for rtcp-mux agents). */
  readonly rtcpPort: number;
  readonly socket: Socket;
}

export class Fanout {
  private list: Destination[] = [];
  /** Datagrams handed to the kernel (RTP only). */
  sent = 0;

  get size(): number {
    return this.list.length;
  }

  destinations(): readonly Destination[] {
    return this.list;
  }

  /** Adds or replaces (same key) a destination. */
  set(d: Destination): void {
    const i = this.list.findIndex((x) => x.key === d.key);
    if (i >= 0) this.list[i] = d;
    else this.list.push(d);
  }

  remove(key: string): boolean {
    const i = this.list.findIndex((x) => x.key === key);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  send(buf: Buffer, length: number): void {
    for (const d of this.list) {
      d.socket.send(buf, 0, length, d.port, d.host);
      this.sent++;
    }
  }

  sendRtcp(buf: Buffer): void {
    for (const d of this.list) d.socket.send(buf, 0, buf.length, d.rtcpPort, d.host);
  }

  clear(): void {
    this.list = [];
  }
}
