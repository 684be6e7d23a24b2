// The media library: upload (multipart, streamed to disk while hashed, then proved decodable
// by ffmpeg before anything is kept), list, get, download, delete.
// Dedup rule: one file on disk per content; one row per (zone, content) — uploading the same
// content to the same zone again answers 409 with the existing id, to another zone makes a
// second row that shares the file.
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from '../app.js';
import { ApiError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Media } from '../db/types.js';
import type { AuthContext } from '../auth/context.js';
import { probeAudio, ProbeError } from '../media/probe.js';
import { commitToStore, mediaFilePath, removeUnreferencedFiles, spoolToTemp, withHashLock, type SpooledFile } from '../media/store.js';
import { inSubtrees } from '../zone-tree.js';
import { IdParams, MediaSchema, errors, mediaDto } from './schemas.js';

const CONTENT_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  mov: 'audio/mp4',
  flac: 'audio/flac',
  aac: 'audio/aac',
};

function formatClock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}

const mediaRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database, config }) => {
  const { db } = database;

  /** A media row the caller may read (404 otherwise), with the action checked (403). */
  async function requireMedia(auth: AuthContext, id: string, action: 'read' | 'media.manage'): Promise<Media> {
    const row = await db
      .selectFrom('media')
      .innerJoin('zones', 'zones.id', 'media.zone_id')
      .selectAll('media')
      .select('zones.path as zone_path')
      .where('media.id', '=', id)
      .executeTakeFirst();
    if (!row || !auth.can('read', row.zone_path)) throw notFound('media', id);
    auth.require(action, row.zone_path);
    const { zone_path: _, ...media } = row;
    return media;
  }

  app.post(
    '/media',
    {
      schema: {
        tags: ['media'],
        consumes: ['multipart/form-data'],
        description: 'multipart/form-data with a `file` part and fields `zoneId` and (optional) `title`; zoneId/title may also be given in the query.',
        querystring: Type.Object({ zoneId: Type.Optional(Type.String({ minLength: 1 })), title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        response: { 201: MediaSchema, ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new ApiError(415, 'unsupported_media_type', 'unsupported_media_type', { type: String(request.headers['content-type'] ?? '') });
      }
      const auth = request.auth;
      let zoneId = request.query.zoneId;
      let title = request.query.title;
      let spooled: SpooledFile | undefined;
      let filename = '';
      try {
        if (zoneId) await auth.requireZone('media.manage', zoneId);
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || spooled) {
              part.file.resume();
              continue;
            }
            filename = path.basename(part.filename || 'upload').slice(0, 200);
            spooled = await spoolToTemp(config, part.file);
          } else if (part.fieldname === 'zoneId' && typeof part.value === 'string') {
            zoneId ??= part.value;
            if (!spooled) await auth.requireZone('media.manage', zoneId);
          } else if (part.fieldname === 'title' && typeof part.value === 'string' && part.value.trim()) {
            title ??= part.value.trim().slice(0, 200);
          }
        }
        if (!spooled) throw new ApiError(400, 'validation', 'upload_no_file');
        if (!zoneId) throw new ApiError(400, 'validation', 'upload_no_zone');
        const zone = await auth.requireZone('media.manage', zoneId);
        let probe;
        try {
          probe = await probeAudio(config.ffmpegPath, spooled.path);
        } catch (err) {
          if (!(err instanceof ProbeError)) throw err;
          request.log.info({ filename, reason: err.reason, detail: err.detail }, 'upload rejected');
          if (err.reason === 'truncated') {
            throw new ApiError(422, 'media_truncated', 'media_truncated', {
              filename,
              decoded: formatClock(err.decodedMs),
              declared: formatClock(err.declaredMs),
            });
          }
          throw new ApiError(415, 'media_not_audio', 'media_not_audio', { filename, detail: err.detail });
        }
        const file = spooled;
        const row = await withHashLock(file.sha256, async () => {
          const existing = await db.selectFrom('media').select('id').where('zone_id', '=', zone.id).where('sha256', '=', file.sha256).executeTakeFirst();
          if (existing) throw new ApiError(409, 'media_exists', 'media_exists', { id: existing.id });
          await commitToStore(config, file);
          return db
            .insertInto('media')
            .values({
              id: newId('media'),
              sha256: file.sha256,
              zone_id: zone.id,
              title: title ?? (filename.replace(/\.[^.]+$/, '') || filename),
              filename,
              format: probe.format,
              codec: probe.codec,
              duration_ms: probe.durationMs,
              size_bytes: file.size,
              sample_rate: probe.sampleRate,
              channels: probe.channels,
              created_by: auth.user.id,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
        });
        request.log.info({ mediaId: row.id, zoneId: zone.id, sha256: row.sha256, durationMs: row.duration_ms }, 'media uploaded');
        return reply.status(201).send(mediaDto(row));
      } finally {
        // Whatever happened, the temp file never outlives the request (a committed one was moved).
        if (spooled) await rm(spooled.path, { force: true });
      }
    },
  );

  app.get(
    '/media',
    {
      schema: {
        tags: ['media'],
        querystring: Type.Object({ zoneId: Type.Optional(Type.String({ minLength: 1, description: 'only this zone and its subtree' })) }),
        response: { 200: Type.Array(MediaSchema), ...errors(401, 404) },
      },
    },
    async (request) => {
      let q = db
        .selectFrom('media')
        .innerJoin('zones', 'zones.id', 'media.zone_id')
        .selectAll('media')
        .where(request.auth.zoneFilter('read'))
        .orderBy('media.created_at', 'desc');
      if (request.query.zoneId) {
        const zone = await request.auth.requireZone('read', request.query.zoneId);
        q = q.where(inSubtrees('zones.path', [zone.path]));
      }
      return (await q.execute()).map(mediaDto);
    },
  );

  app.get(
    '/media/:id',
    { schema: { tags: ['media'], params: IdParams, response: { 200: MediaSchema, ...errors(401, 404) } } },
    async (request) => mediaDto(await requireMedia(request.auth, request.params.id, 'read')),
  );

  app.get(
    '/media/:id/file',
    {
      schema: {
        tags: ['media'],
        params: IdParams,
        produces: ['audio/mpeg', 'audio/wav', 'audio/ogg', 'audio/mp4', 'audio/flac', 'application/octet-stream'],
        response: { ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const media = await requireMedia(request.auth, request.params.id, 'read');
      const file = mediaFilePath(config, media.sha256);
      const info = await stat(file).catch(() => undefined);
      if (!info) throw new ApiError(404, 'not_found', 'media_file_missing', { id: media.id });
      reply.header('content-length', info.size);
      reply.header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(media.filename)}`);
      reply.type(CONTENT_TYPES[media.format] ?? 'application/octet-stream');
      return reply.send(createReadStream(file) as never);
    },
  );

  app.delete(
    '/media/:id',
    { schema: { tags: ['media'], params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (request, reply) => {
      const media = await requireMedia(request.auth, request.params.id, 'media.manage');
      await db.deleteFrom('media').where('id', '=', media.id).execute();
      await removeUnreferencedFiles(database, config, [media.sha256]);
      return reply.status(204).send(null);
    },
  );
};
export default mediaRoutes;
