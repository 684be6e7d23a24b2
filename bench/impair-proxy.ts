/**
 * An impairment proxy between one agent and the server's media port, for
 * `--impair`. bench/udp-relay.ts (UdpRelay) impairs the direction towards its
 * target and needs the far side to speak first; here the agent speaks first
 * (its keepalive teaches the server where to send) and it is the other
 * direction, server → agent, that must suffer. So the proxy forwards the
 * agent's keepalives and RTCP to the server untouched, from its own socket
 * (the server learns the proxy's address), and delays or drops what comes
 * back with UdpRelay's own seeded decision function (`decide`): the same
 * impairment model, the direction a downlink needs.
 */
import dgram from 'node:dgram';
import { decide, seededRandom, type Impairment } from './udp-relay.js';

export class ImpairProxy {
  private readonly random: () => number;
  private agent: { address: string; port: number } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  received = 0;
  dropped = 0;

  private constructor(
    private readonly socket: dgram.Socket,
    /** The server's media address (set when the agent learns it from its welcome). */
    public server: { address: string; port: number },
    private readonly imp: Impairment,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => {});
  }

  static open(server: { address: string; port: number }, imp: Impairment, seed: number): Promise<ImpairProxy> {
    const socket = dgram.createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new ImpairProxy(socket, server, imp, seed));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    if (rinfo.port === this.server.port && rinfo.address === this.server.address) {
      const agent = this.agent;
      if (!agent) return;
      this.received++;
      const delays = decide(this.random, this.imp);
      if (!delays) {
        this.dropped++;
        return;
      }
      for (const d of delays) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!this.closed) this.socket.send(msg, agent.port, agent.address);
        }, d);
        this.timers.add(timer);
      }
      return;
    }
    this.agent = { address: rinfo.address, port: rinfo.port };
    this.socket.send(msg, this.server.port, this.server.address);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.socket.close();
  }
}
