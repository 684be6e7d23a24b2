// Uploads of every supported format (made here by the real ffmpeg), and of things that are
// not (playable) audio: each of those gets a clear 4xx and leaves nothing behind.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildTestApp, bearer } from '../helpers/app.js';
import { encode, ffmpegPath, multipartBody, toneWav } from '../helpers/audio-files.js';
import { mediaFilePath } from '../../server/media/store.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'loa-media-test-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const h = await buildTestApp(t, { LOA_MAX_UPLOAD_MB: '1' });
const zoneA = await h.zone(null, 'Xã A');
const zoneB = await h.zone(null, 'Xã B');
const op = await h.user([
  { role: 'operator', zoneId: zoneA.id },
  { role: 'operator', zoneId: zoneB.id },
]);

function upload(name: string, data: Buffer, fields: Record<string, string> = { zoneId: zoneA.id }, lang = 'en') {
  const body = multipartBody(fields, { name, data });
  return h.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, ...bearer(op.token), 'accept-language': lang } });
}

/** Files under the media store and the upload temp dir. */
function storedFiles(): string[] {
  const out: string[] = [];
  for (const sub of ['media', 'tmp']) {
    const dir = path.join(h.config.dataDir, sub);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) if (entry.isFile()) out.push(path.join(entry.parentPath ?? dir, entry.name));
  }
  return out;
}
async function rowCount(): Promise<number> {
  return (await h.database.db.selectFrom('media').select('id').execute()).length;
}

const source = toneWav(1.0, 3, 44100);
const FORMATS: { name: string; args: string[]; codec: RegExp; sampleRate: number }[] = [
  { name: 'tone.mp3', args: ['-c:a', 'libmp3lame', '-b:a', '64k'], codec: /^mp3/, sampleRate: 44100 },
  { name: 'tone.wav', args: ['-c:a', 'pcm_s16le'], codec: /^pcm_s16le$/, sampleRate: 44100 },
  { name: 'tone.opus', args: ['-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg'], codec: /^opus$/, sampleRate: 48000 },
  { name: 'tone.m4a', args: ['-c:a', 'aac', '-b:a', '64k'], codec: /^aac$/, sampleRate: 44100 },
  { name: 'tone.flac', args: ['-c:a', 'flac'], codec: /^flac$/, sampleRate: 44100 },
];

t.test('every supported format is accepted, probed and stored by content', async (t) => {
  for (const f of FORMATS) {
    const data = encode(work, source, f.name, f.args);
    const res = await upload(f.name, data, { zoneId: zoneA.id, title: `Thử ${f.name}` });
    t.equal(res.statusCode, 201, `${f.name} accepted`);
    if (res.statusCode !== 201) {
      t.comment(res.body);
      continue;
    }
    const m = res.json();
    t.match(m.codec, f.codec, `${f.name} codec`);
    t.equal(m.sampleRate, f.sampleRate, `${f.name} sample rate`);
    t.equal(m.channels, 1, `${f.name} channels`);
    t.ok(Math.abs(m.durationMs - 1000) <= 80, `${f.name} duration ${m.durationMs} ms ≈ 1000 ms`);
    t.equal(m.title, `Thử ${f.name}`);
    t.equal(m.sizeBytes, data.length);
    const sha = createHash('sha256').update(data).digest('hex');
    t.equal(m.sha256, sha);
    t.same(readFileSync(mediaFilePath(h.config, sha)), data, 'stored under its hash, byte for byte');
    const dl = await h.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}/file`, headers: bearer(op.token) });
    t.equal(dl.statusCode, 200);
    t.same(dl.rawPayload, data, 'download gives the same bytes');
  }
  const list = await h.app.inject({ method: 'GET', url: `/api/v1/media?zoneId=${zoneA.id}`, headers: bearer(op.token) });
  t.equal(list.json().length, FORMATS.length);
});

t.test('same content: 409 in the same zone, shared file across zones, removed with the last row', async (t) => {
  const data = toneWav(0.3, 11);
  const sha = createHash('sha256').update(data).digest('hex');
  const first = await upload('a.wav', data);
  t.equal(first.statusCode, 201);
  const again = await upload('again.wav', data);
  t.equal(again.statusCode, 409);
  t.equal(again.json().error, 'media_exists');
  t.match(again.json().message, first.json().id);
  const other = await upload('b.wav', data, { zoneId: zoneB.id });
  t.equal(other.statusCode, 201, 'another zone gets its own row');
  const withSha = storedFiles().filter((f) => f.endsWith(sha));
  t.equal(withSha.length, 1, 'one file on disk');
  const del = (id: string) => h.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: bearer(op.token) });
  t.equal((await del(first.json().id)).statusCode, 204);
  t.ok(existsSync(mediaFilePath(h.config, sha)), 'file kept while a row references it');
  t.equal((await del(other.json().id)).statusCode, 204);
  t.notOk(existsSync(mediaFilePath(h.config, sha)), 'file removed with the last row');
  t.equal((await h.app.inject({ method: 'GET', url: `/api/v1/media/${first.json().id}`, headers: bearer(op.token) })).statusCode, 404);
});

t.test('not audio, truncated or too large: clear 4xx, nothing kept', async (t) => {
  const png = path.join(work, 'image.png');
  spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=32x32', '-frames:v', '1', png]);
  const video = path.join(work, 'video.mp4');
  spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=d=0.5:s=64x64:r=10', '-c:v', 'mpeg4', '-an', video]);
  const m4a = encode(work, toneWav(2, 5), 'cut.m4a', ['-c:a', 'aac']);
  const longWav = toneWav(3, 6);
  const mp3 = encode(work, toneWav(3, 8), 'cut.mp3', ['-c:a', 'libmp3lame', '-b:a', '64k']);
  const flac = encode(work, toneWav(3, 10), 'cut.flac', ['-c:a', 'flac']);
  const cases: { name: string; data: Buffer; status: number; error: string; message: RegExp }[] = [
    { name: 'noise.mp3', data: randomBytes(64 * 1024), status: 415, error: 'media_not_audio', message: /noise\.mp3.*not decodable audio/ },
    { name: 'notes.mp3', data: Buffer.from('Đây là một tệp văn bản, không phải âm thanh.\n'.repeat(200)), status: 415, error: 'media_not_audio', message: /notes\.mp3/ },
    { name: 'image.png', data: readFileSync(png), status: 415, error: 'media_not_audio', message: /image\.png/ },
    { name: 'video.mp4', data: readFileSync(video), status: 415, error: 'media_not_audio', message: /video\.mp4/ },
    { name: 'empty.wav', data: Buffer.alloc(0), status: 415, error: 'media_not_audio', message: /empty\.wav/ },
    { name: 'cut.m4a', data: m4a.subarray(0, Math.floor(m4a.length / 2)), status: 415, error: 'media_not_audio', message: /cut\.m4a/ },
    { name: 'header-only.wav', data: longWav.subarray(0, 44), status: 415, error: 'media_not_audio', message: /header-only\.wav/ },
    { name: 'cut.wav', data: longWav.subarray(0, 44 + 48000), status: 422, error: 'media_truncated', message: /cut\.wav.*truncated/ },
    { name: 'cut.mp3', data: mp3.subarray(0, Math.floor(mp3.length * 0.6)), status: 422, error: 'media_truncated', message: /cut\.mp3.*truncated/ },
    { name: 'cut.flac', data: flac.subarray(0, Math.floor(flac.length * 0.6)), status: 422, error: 'media_truncated', message: /cut\.flac.*truncated/ },
    { name: 'big.wav', data: toneWav(12, 7), status: 413, error: 'too_large', message: /1 MB/ },
  ];
  const rowsBefore = await rowCount();
  const filesBefore = storedFiles().length;
  for (const c of cases) {
    const res = await upload(c.name, c.data);
    t.equal(res.statusCode, c.status, `${c.name}: ${c.status}`);
    const body = res.json();
    t.equal(body.error, c.error, `${c.name}: ${c.error}`);
    t.match(body.message, c.message, `${c.name}: message says what is wrong (${body.message})`);
    t.equal(await rowCount(), rowsBefore, `${c.name}: no row`);
    t.equal(storedFiles().length, filesBefore, `${c.name}: no file left (store or temp)`);
  }
  const vi = await upload('noise.mp3', randomBytes(1000), { zoneId: zoneA.id }, 'vi');
  t.match(vi.json().message, /không phải âm thanh/, 'Vietnamese message');
});

t.test('a form without file or zone, or not multipart', async (t) => {
  const noFile = multipartBody({ zoneId: zoneA.id });
  const r1 = await h.app.inject({ method: 'POST', url: '/api/v1/media', payload: noFile.payload, headers: { ...noFile.headers, ...bearer(op.token) } });
  t.equal(r1.statusCode, 400);
  t.match(r1.json().message, /file/);
  const r2 = await upload('x.wav', toneWav(0.1, 9), {});
  t.equal(r2.statusCode, 400);
  t.match(r2.json().message, /zoneId/);
  const r3 = await h.app.inject({ method: 'POST', url: '/api/v1/media', payload: { zoneId: zoneA.id }, headers: bearer(op.token) });
  t.equal(r3.statusCode, 415);
  t.equal(r3.json().error, 'unsupported_media_type');
  t.equal(storedFiles().filter((f) => path.relative(h.config.dataDir, f).startsWith(`tmp${path.sep}`)).length, 0, 'no temp files');
});
