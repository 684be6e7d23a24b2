// Zone streams for third-party receivers (ffmpeg, GStreamer, VLC) and each zone's broadcast
// settings:
//   GET /zones/:id/sdp?codec=…      SDP of the zone's multicast group (409 when it has none)
//   GET /endpoints/:id/sdp          SDP a fixed-address RTP receiver listens with
//   GET /zones/:id/broadcast        playout delay and multicast group of a zone
//   PUT /zones/:id/broadcast        changes them (zones.manage); applied live: agents get a
//                                   `config` message, the engine sends to the new group
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { isIP } from 'node:net';
import type { CodecName } from '../../codecs/codec.js';
import { CodecNameSchema } from '../../engine/protocol.js';
import { codecInfo } from '../../codecs/registry.js';
import { packetPtimeMs } from '../../protocols/rtp/packetization.js';
import { buildStreamSdp, isMulticast } from '../../protocols/rtp/sdp.js';
import { ApiError, notFound } from '../errors.js';
import { endpointCodecs, type BroadcastHost } from '../broadcast/engine-host.js';
import { effectivePlayoutDelay, loadZoneSettings, saveZoneSettings, type ZoneBroadcastSettings } from '../broadcast/zone-settings.js';
import type { PlaybackDeps } from './playback.js';
import { IdParams, Nullable, errors } from './schemas.js';

const CodecSchema = CodecNameSchema;
const MulticastSchema = Type.Object(
  {
    address: Type.String({ minLength: 7, maxLength: 15, description: 'IPv4 multicast group, 224.0.0.0–239.255.255.255 (239.x for a private network)' }),
    port: Type.Integer({ minimum: 1024, maximum: 65534, description: 'even by RTP convention; RTCP uses port + 1' }),
    codec: CodecSchema,
    ttl: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 255, description: 'IP TTL of its packets: 1 (default) stays on the local segment; n crosses n − 1 multicast routers' }),
    ),
  },
  { additionalProperties: false },
);
const SettingsSchema = Type.Object({
  zoneId: Type.String(),
  playoutDelayMs: Nullable(Type.Integer({ description: "the zone's own setting; null: inherited" })),
  effectivePlayoutDelayMs: Type.Integer({ description: 'what its receivers use (own, else nearest ancestor, else server default)' }),
  multicast: Nullable(MulticastSchema),
});

export type StreamsDeps = PlaybackDeps;

/** One SDP line carries no spaces: keep zone names out of it beyond a safe subset. */
function sessionName(name: string): string {
  return `Loa ${name}`.replace(/[\r\n\0]/g, ' ').slice(0, 120);
}

function opusFmtp(codec: CodecName): string | undefined {
  return codec === 'opus' ? 'stereo=0;sprop-stereo=0' : undefined;
}

const streamRoutes: FastifyPluginAsyncTypebox<StreamsDeps> = async (app, { database, broadcast }) => {
  const { db } = database;
  const host: BroadcastHost = broadcast;

  async function settingsDto(s: ZoneBroadcastSettings, path: string) {
    return {
      zoneId: s.zoneId,
      playoutDelayMs: s.playoutDelayMs,
      effectivePlayoutDelayMs: await effectivePlayoutDelay(db, path, host.defaultPlayoutDelayMs),
      multicast: s.multicast,
    };
  }

  app.get(
    '/zones/:id/sdp',
    {
      schema: {
        tags: ['streams'],
        description:
          "SDP of the zone's RTP multicast stream, for ffmpeg/GStreamer/VLC. A zone without a multicast group answers 409: " +
          'unicast receivers are configured as fixed-address RTP endpoints (GET /api/v1/endpoints/{id}/sdp).',
        params: IdParams,
        querystring: Type.Object({ codec: Type.Optional(CodecSchema) }),
        produces: ['application/sdp'],
        response: { 200: Type.String(), ...errors(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const zone = await request.auth.requireZone('read', request.params.id);
      const settings = (await loadZoneSettings(db, zone.id))!;
      const group = settings.multicast;
      if (!group) throw new ApiError(409, 'no_multicast', 'sdp_no_multicast', { name: zone.name, zone: zone.id });
      const codec = request.query.codec ?? group.codec;
      if (codec !== group.codec) throw new ApiError(409, 'codec_mismatch', 'sdp_codec_mismatch', { name: zone.name, codec: group.codec, asked: codec });
      const sdp = buildStreamSdp({
        sessionName: sessionName(zone.name),
        originAddress: host.originHost,
        connectionAddress: group.address,
        ttl: group.ttl,
        port: group.port,
        codec: codecInfo(codec),
        ptime: packetPtimeMs(codecInfo(codec)),
        fmtp: opusFmtp(codec),
      });
      return reply.type('application/sdp').header('content-disposition', `inline; filename="${zone.id}.sdp"`).send(sdp);
    },
  );

  app.get(
    '/endpoints/:id/sdp',
    {
      schema: {
        tags: ['streams'],
        description: 'SDP a fixed-address RTP receiver (endpoint with address and port) listens with.',
        params: IdParams,
        produces: ['application/sdp'],
        response: { 200: Type.String(), ...errors(401, 404, 409) },
      },
    },
    async (request, reply) => {
      const row = await db
        .selectFrom('endpoints')
        .innerJoin('zones', 'zones.id', 'endpoints.zone_id')
        .selectAll('endpoints')
        .select(['zones.path as zone_path', 'zones.name as zone_name'])
        .where('endpoints.id', '=', request.params.id)
        .executeTakeFirst();
      if (!row || !request.auth.can('read', row.zone_path)) throw notFound('endpoint', request.params.id);
      if (row.kind !== 'rtp' || row.address === null || row.port === null || row.multicast) {
        throw new ApiError(409, 'not_fixed_address', 'sdp_not_fixed', { name: row.name });
      }
      const codec = endpointCodecs(row)[0];
      const sdp = buildStreamSdp({
        sessionName: sessionName(`${row.zone_name} → ${row.name}`),
        originAddress: host.originHost,
        connectionAddress: isIP(row.address) ? row.address : '0.0.0.0',
        port: row.port,
        codec: codecInfo(codec),
        ptime: packetPtimeMs(codecInfo(codec)),
        fmtp: opusFmtp(codec),
      });
      return reply.type('application/sdp').header('content-disposition', `inline; filename="${row.id}.sdp"`).send(sdp);
    },
  );

  app.get(
    '/zones/:id/broadcast',
    { schema: { tags: ['streams'], params: IdParams, response: { 200: SettingsSchema, ...errors(401, 404) } } },
    async (request) => {
      const zone = await request.auth.requireZone('read', request.params.id);
      return settingsDto((await loadZoneSettings(db, zone.id))!, zone.path);
    },
  );

  app.put(
    '/zones/:id/broadcast',
    {
      schema: {
        tags: ['streams'],
        params: IdParams,
        body: Type.Object(
          {
            playoutDelayMs: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 10_000 }))),
            multicast: Type.Optional(Nullable(MulticastSchema)),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SettingsSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const zone = await request.auth.requireZone('zones.manage', request.params.id);
      const m = request.body.multicast;
      if (m && (isIP(m.address) !== 4 || !isMulticast(m.address))) {
        throw new ApiError(400, 'validation', 'bad_multicast_group', { value: m.address });
      }
      const saved = await saveZoneSettings(db, zone.id, request.body);
      await host.zonesChanged();
      return settingsDto(saved, zone.path);
    },
  );
};
export default streamRoutes;
