import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../codecs/wav.js';
import { identicalAudio } from '../helpers/speech-measures.js';
import { SpeechCache, cacheKey, decodeCacheWav, encodeCacheWav } from '../../speech/speech-cache.js';

const root = mkdtempSync(join(tmpdir(), 'loa-speech-cache-test-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);

/** A recognisable second of audio (not silence, different per seed). */
function audio(seed: number, samples = 48000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(8000 * Math.sin((i * (seed + 1)) / 10)));
}

t.test('what is put comes back identical, as a WAV any reader plays', async (t) => {
  const cache = await SpeechCache.open({ dir: freshDir() });
  const key = cacheKey(['espeak-ng 1.51', 'vi', 'xin chào']);
  t.match(key, /^[0-9a-f]{64}$/);
  t.not(key, cacheKey(['espeak-ng 1.51', 'vi', 'xin chào!']), 'a different text is a different key');
  t.equal(await cache.get(key), undefined, 'a miss before');
  const pcm = audio(1);
  await cache.put(key, pcm);
  t.ok(identicalAudio(await cache.get(key), pcm), 'identical samples');
  t.notOk(identicalAudio(pcm, audio(2)), 'the comparison does see a difference');
  const wav = parseWav(readFileSync(cache.pathOf(key)));
  t.equal(wav.sampleRate, 48000);
  t.equal(wav.channels, 1);
  t.ok(identicalAudio(wav.samples, pcm), 'codecs/wav.ts reads the cache file');
  t.same(cache.stats(), { entries: 1, bytes: 84 + 96000, hits: 1, misses: 1, corrupt: 0, evictions: 0 });
  t.same(readdirSync(cache.dir), [`${key}.wav`], 'no temporary file left behind');
  t.throws(() => cache.pathOf('../etc/passwd'), /not a cache key/);
});

t.test('a corrupt file is dropped and reported as a miss, whatever the damage', async (t) => {
  const cache = await SpeechCache.open({ dir: freshDir() });
  const reasons: string[] = [];
  cache.onCorrupt = (_key, reason) => reasons.push(reason);
  const damages: [string, (b: Buffer) => Buffer][] = [
    ['a flipped sample byte', (b) => (b[b.length - 100] ^= 0xff, b)],
    ['truncated', (b) => b.subarray(0, b.length - 1000)],
    ['truncated inside the header', (b) => b.subarray(0, 30)],
    ['empty', () => Buffer.alloc(0)],
    ['another sample rate', (b) => (b.writeUInt32LE(22050, 24), b)],
    ['not a WAV', () => Buffer.from('<html>oops</html>')],
  ];
  for (const [i, [what, damage]] of damages.entries()) {
    const key = cacheKey(['damage', what]);
    await cache.put(key, audio(i));
    writeFileSync(cache.pathOf(key), damage(readFileSync(cache.pathOf(key))));
    t.equal(await cache.get(key), undefined, `${what}: a miss`);
    t.notOk(readdirSync(cache.dir).includes(`${key}.wav`), `${what}: the file is gone`);
    await cache.put(key, audio(i));
    t.ok(identicalAudio(await cache.get(key), audio(i)), `${what}: regenerated audio is served`);
  }
  t.equal(cache.stats().corrupt, damages.length);
  t.same(reasons, ['checksum mismatch', 'RIFF size does not match the file', 'shorter than its header', 'shorter than its header', 'not 48 kHz mono 16-bit PCM', 'shorter than its header']);
  t.equal(typeof decodeCacheWav(encodeCacheWav(audio(0))), 'object');
});

t.test('bounded in bytes, least recently used first out', async (t) => {
  const entry = 84 + 96000;
  const cache = await SpeechCache.open({ dir: freshDir(), maxBytes: 2 * entry });
  const [a, b, c] = ['a', 'b', 'c'].map((s) => cacheKey([s]));
  await cache.put(a, audio(1));
  await cache.put(b, audio(2));
  t.ok(await cache.get(a), 'a used after b');
  await cache.put(c, audio(3));
  t.ok(cache.has(a) && cache.has(c) && !cache.has(b), 'b, the least recently used, was evicted');
  t.equal(await cache.get(b), undefined);
  t.same(cache.stats().evictions, 1);
  t.equal(cache.stats().bytes, 2 * entry);
  t.same(readdirSync(cache.dir).sort(), [`${a}.wav`, `${c}.wav`].sort(), 'the directory holds what the index holds');

  const huge = cacheKey(['huge']);
  await cache.put(huge, audio(4, 3 * 48000));
  t.same(cache.stats().entries, 0, 'an entry larger than the bound evicts everything, itself last');
  t.equal(readdirSync(cache.dir).length, 0);
});

t.test('reopening indexes the directory, keeps recency from mtimes, removes stale temporary files', async (t) => {
  const dir = freshDir();
  const entry = 84 + 96000;
  const first = await SpeechCache.open({ dir });
  const [old, recent] = [cacheKey(['old']), cacheKey(['recent'])];
  await first.put(old, audio(1));
  await first.put(recent, audio(2));
  utimesSync(first.pathOf(old), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const staleTmp = join(dir, `${recent}.wav.tmp-1-dead`);
  const freshTmp = join(dir, `${recent}.wav.tmp-2-live`);
  writeFileSync(staleTmp, 'half a write');
  writeFileSync(freshTmp, 'a write in progress');
  utimesSync(staleTmp, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
  writeFileSync(join(dir, 'README'), 'not ours');

  const again = await SpeechCache.open({ dir, maxBytes: entry });
  t.ok(again.has(recent) && !again.has(old), 'over the bound at open: the older file goes');
  t.ok(identicalAudio(await again.get(recent), audio(2)));
  const names = readdirSync(dir);
  t.notOk(names.includes(`${recent}.wav.tmp-1-dead`), 'a temporary file older than an hour is removed');
  t.ok(names.includes(`${recent}.wav.tmp-2-live`), 'a recent one may be another writer: kept');
  t.ok(names.includes('README'), 'files that are not cache entries are left alone');
  t.ok(statSync(again.pathOf(recent)).mtimeMs > Date.now() - 60_000, 'a hit refreshes the mtime');
});
