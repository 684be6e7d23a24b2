/**
 * The endpoint control channel on the HTTP server: a WebSocket route at
 * CONTROL_PATH (GET /api/v1/endpoints/control) where speaker agents say hello
 * with their endpoint id and device token. Each connection is one
 * ControlServerSession (protocols/control/) whose injected functions are
 * answered here from the database and the BroadcastHost: the credential check,
 * the zone, the endpoint's codec preference, the zone's playout delay, and
 * the online/offline/stats callbacks. Nothing here runs per audio frame.
 *
 * Register inside the /api/v1 scope: `await api.register(controlChannel, { host, database })`.
 */
import type { FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import { MAX_CONTROL_MESSAGE_BYTES } from '../../protocols/control/messages.js';
import { ControlServerSession, type EndpointAuthorization } from '../../protocols/control/server-session.js';
import { verifyEndpointCredential } from '../auth/endpoint-credential.js';
import type { Database } from '../db/types.js';
import { findZone } from '../zone-tree.js';
import { endpointCodecs, type BroadcastHost } from './engine-host.js';
import { effectivePlayoutDelay } from './zone-settings.js';

export interface ControlChannelOptions {
  host: BroadcastHost;
  database: Database;
}

/** Mounted under the /api/v1 prefix, so the full path is CONTROL_PATH. */
export const CONTROL_ROUTE = '/endpoints/control';

const controlChannel: FastifyPluginAsync<ControlChannelOptions> = async (app, { host, database }) => {
  const { db } = database;
  // Control messages are small; a big frame is hostile and is refused by ws before parsing.
  await app.register(websocket, { options: { maxPayload: 4 * MAX_CONTROL_MESSAGE_BYTES } });

  async function authenticate(endpointId: string, token: string): Promise<EndpointAuthorization | null> {
    const endpoint = await verifyEndpointCredential(db, endpointId, token);
    if (!endpoint) return null;
    const zone = await findZone(db, endpoint.zone_id);
    if (!zone) return null;
    return {
      zoneId: zone.id,
      codecs: endpointCodecs(endpoint),
      playoutDelayMs: await effectivePlayoutDelay(db, zone.path, host.defaultPlayoutDelayMs),
    };
  }

  app.get(CONTROL_ROUTE, { websocket: true, config: { public: true }, schema: { hide: true } }, (socket, request) => {
    const log = request.log;
    const rtp = host.rtpTargetFor(request.socket.localAddress);
    const timing = host.controlOptions;
    const session: ControlServerSession = new ControlServerSession(socket, {
      authenticate,
      rtp,
      remoteAddress: request.ip,
      ...(timing.statsIntervalMs !== undefined && { statsIntervalMs: timing.statsIntervalMs }),
      ...(timing.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: timing.heartbeatIntervalMs }),
      ...(timing.keepaliveIntervalMs !== undefined && { keepaliveIntervalMs: timing.keepaliveIntervalMs }),
      ...(timing.helloTimeoutMs !== undefined && { helloTimeoutMs: timing.helloTimeoutMs }),
      onOnline: (info) => void host.sessionOnline(session, info, rtp).catch((err) => log.error({ err, endpointId: info.endpointId }, 'could not attach endpoint')),
      onOffline: (info, reason) =>
        void host.sessionOffline(session, info, reason).catch((err) => log.error({ err, endpointId: info.endpointId }, 'could not detach endpoint')),
      onStats: (info, stats) => host.sessionStats(info, stats),
      onPlayed: (info, programmeId, atMs) => host.agentPlayed(info, programmeId, atMs),
      onInvalidMessage: (reason) => log.debug({ reason, remote: request.ip }, 'control message rejected'),
    });
    socket.on('close', (code: number) => {
      if (session.state !== 'online' && session.info === null) log.info({ remote: request.ip, code, reason: session.rejected.lastReason || undefined }, 'control connection closed before welcome');
    });
  });
};

export default controlChannel;
