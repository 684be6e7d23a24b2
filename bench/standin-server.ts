/**
 * A stand-in for the Loa server, for developing the bench before (or without)
 * the real integration: the real media worker (engine/Engine) and the real
 * control-channel session (protocols/control/server-session.ts) behind the
 * handful of API routes the bench calls (login, zones, endpoints, playback)
 * — no database, no auth beyond a fixed token. `loa bench --server standin`
 * measures it; a published result must name which server it measured.
 *
 * Run as a child: `node standin-server.js <httpPort> <rtpPort>`; prints
 * "listening <url>" on stdout when ready.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Engine } from '../engine/engine.js';
import { priorityValue, type PriorityName } from '../domain/priority.js';
import type { SourceSpec, ZoneNode } from '../engine/protocol.js';
import { CONTROL_PATH } from '../protocols/control/messages.js';
import { ControlServerSession } from '../protocols/control/server-session.js';

const PLAYOUT_DELAY_MS = 150;

export interface StandinServer {
  url: string;
  close(): Promise<void>;
}

export async function startStandinServer(httpPort: number, rtpPort: number): Promise<StandinServer> {
  const engine = await Engine.start({ rtpPort, rtpHost: '127.0.0.1' });
  const zones: ZoneNode[] = [];
  const endpoints = new Map<string, { zoneId: string; token: string }>();
  let nextId = 0;
  const id = (prefix: string) => `${prefix}_${++nextId}`;

  const routes: Record<string, (body: any, url: string) => [number, unknown]> = {
    'POST /api/v1/auth/login': () => [200, { token: 'standin' }],
    'POST /api/v1/zones': (b) => {
      const z = { id: id('zone'), parentId: b.parentId ?? null };
      zones.push(z);
      engine.setZones(zones);
      return [201, { id: z.id, parentId: z.parentId, kind: b.kind, name: b.name }];
    },
    'POST /api/v1/endpoints': (b) => {
      const e = { zoneId: String(b.zoneId), token: randomBytes(12).toString('base64url') };
      const eid = id('endpoint');
      endpoints.set(eid, e);
      return [201, { endpoint: { id: eid, zoneId: e.zoneId, name: b.name }, credential: e.token }];
    },
    'POST /api/v1/playback': (b) => {
      const pid = id('programme');
      const source: SourceSpec =
        b.source.kind === 'tone' ? { kind: 'tone', freqHz: b.source.freqHz, durationMs: b.source.durationMs } : { kind: 'silence' };
      engine.play({ programmeId: pid, zones: b.zoneIds, priority: priorityValue(b.priority as PriorityName | number), source, maxDurationMs: b.maxDurationMs });
      return [201, { id: pid, zoneIds: b.zoneIds, state: 'on-air' }];
    },
  };

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      let status = 404;
      let out: unknown = { error: 'not_found', message: `${req.method} ${path}` };
      if (req.method === 'DELETE' && path.startsWith('/api/v1/playback/')) {
        engine.stop(path.slice('/api/v1/playback/'.length));
        status = 204;
        out = null;
      } else {
        const route = routes[`${req.method} ${path}`];
        if (route) {
          try {
            [status, out] = route(chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {}, path);
          } catch (err) {
            [status, out] = [400, { error: 'bad_request', message: (err as Error).message }];
          }
        }
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(out === null ? undefined : JSON.stringify(out));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== CONTROL_PATH) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      new ControlServerSession(ws, {
        authenticate: (eid, token) => {
          const e = endpoints.get(eid);
          return e && e.token === token ? { zoneId: e.zoneId, codecs: ['opus', 'pcmu'], playoutDelayMs: PLAYOUT_DELAY_MS } : null;
        },
        rtp: { host: '127.0.0.1', port: engine.rtpPort },
        onOnline: (info) =>
          engine.attachEndpoint({ endpointId: info.endpointId, zoneId: info.zoneId, codec: info.codec as 'opus', learn: { token: info.mediaToken } }),
        onOffline: (info) => engine.detachEndpoint(info.endpointId),
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(httpPort, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await engine.close();
    },
  };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) {
  const [httpPort, rtpPort] = process.argv.slice(2).map(Number);
  const server = await startStandinServer(httpPort || 0, rtpPort || 0);
  process.stdout.write(`listening ${server.url}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop).once('SIGINT', stop);
}
