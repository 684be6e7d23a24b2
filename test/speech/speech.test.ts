// createSpeech(): normalisation before the cache key, the cache in front of
// the voices, and a cloud voice (a real HTTP server on loopback standing in
// for FPT.AI / Viettel AI / Zalo) that falls back to espeak-ng on any fault.
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dominantFrequency } from '../../codecs/analysis.js';
import { readWav, writeWavHeader } from '../../codecs/wav.js';
import { createSpeech, type SpeechLogger } from '../../speech/speech.js';
import { EspeakSynthesizer } from '../../speech/espeak-synthesizer.js';
import { HttpSynthesizer } from '../../speech/http-synthesizer.js';
import type { SynthesisOptions, Synthesizer } from '../../speech/synthesizer.js';
import { identicalAudio, rmsDbfs } from '../helpers/speech-measures.js';

const root = mkdtempSync(join(tmpdir(), 'loa-speech-test-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);

// The server's pino logger fits where createSpeech wants a logger.
const serverLogger: SpeechLogger = pino({ enabled: false });
void serverLogger;

function recordingLogger(): SpeechLogger & { lines: { obj: Record<string, unknown>; msg: string }[] } {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

/** One second of a 440 Hz tone as a 16 kHz WAV: what our stand-in cloud voice "says". */
function toneWav(): Buffer {
  const rate = 16000;
  const body = Buffer.alloc(rate * 2);
  for (let i = 0; i < rate; i++) body.writeInt16LE(Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return Buffer.concat([writeWavHeader({ sampleRate: rate, channels: 1, dataBytes: body.length }), body]);
}

type Behaviour = 'ok' | 'error500' | 'hang' | 'html' | 'garbage' | 'huge' | 'hugeDeclared';

/** A local HTTP voice whose behaviour the test switches; it records every request. */
async function cloudVoice(t: Test) {
  const state = { behaviour: 'ok' as Behaviour, requests: [] as { headers: IncomingMessage['headers']; body: Record<string, unknown> }[] };
  const hanging: ServerResponse[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    state.requests.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    switch (state.behaviour) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'audio/wav' }).end(toneWav());
        break;
      case 'error500':
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"quota exceeded"}');
        break;
      case 'hang':
        hanging.push(res); // never answers
        break;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
        break;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(Buffer.alloc(5000, 0x5a));
        break;
      case 'huge': // streamed, no length announced
        res.writeHead(200, { 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' }).end(Buffer.alloc(3 * 1024 * 1024));
        break;
      case 'hugeDeclared':
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 3 * 1024 * 1024 }).end(Buffer.alloc(3 * 1024 * 1024));
        break;
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const r of hanging) r.destroy();
    server.closeAllConnections();
    server.close();
  });
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tts` };
}

t.test('speak(): normalised Vietnamese speech at 48 kHz, cached by content', async (t) => {
  const speech = await createSpeech({ cacheDir: freshDir() });
  const first = await speech.speak('Gió mạnh cấp 12.');
  t.equal(first.sampleRate, 48000);
  t.equal(first.engine, 'espeak-ng');
  t.equal(first.cached, false);
  t.equal(first.spokenText, 'Gió mạnh cấp mười hai.');
  t.equal(first.durationMs, Math.round(first.pcm.length / 48));
  t.ok(rmsDbfs(first.pcm) > -35, 'not silence');

  const again = await speech.speak('Gió mạnh cấp 12.');
  t.equal(again.cached, true);
  t.ok(identicalAudio(again.pcm, first.pcm), 'the cache returns identical audio');
  t.ok(first.file && first.file === again.file, 'both name the cache file');
  t.ok(identicalAudio(readWav(first.file!).samples, first.pcm), 'which holds exactly this audio, as a WAV');
  const spelled = await speech.speak('Gió  mạnh cấp mười hai.');
  t.equal(spelled.cached, true, 'the key is the normalised text: digits and words share an entry');
  t.ok(identicalAudio(spelled.pcm, first.pcm));

  const slower = await speech.speak('Gió mạnh cấp 12.', { rate: 0.8 });
  t.equal(slower.cached, false, 'the rate is part of the key');
  t.ok(slower.pcm.length > first.pcm.length);
  t.same(speech.stats().synthesized, { 'espeak-ng': 2 });
  t.equal(speech.stats().cache.hits, 2);
});

t.test('a corrupt cache file is ignored and the audio made again', async (t) => {
  const dir = freshDir();
  const logger = recordingLogger();
  const speech = await createSpeech({ cacheDir: dir, logger });
  const first = await speech.speak('Đề nghị bà con sơ tán.');
  const [file] = readdirSync(dir);
  writeFileSync(join(dir, file), 'RIFF garbage');
  const again = await speech.speak('Đề nghị bà con sơ tán.');
  t.equal(again.cached, false, 'regenerated');
  t.ok(identicalAudio(again.pcm, first.pcm), 'the same audio as before');
  t.equal(speech.stats().cache.corrupt, 1);
  t.match(logger.lines, [{ msg: /corrupt file dropped/, obj: { reason: /shorter than its header/ } }]);
  t.equal((await speech.speak('Đề nghị bà con sơ tán.')).cached, true, 'and cached again');
});

t.test('a cache that cannot be written costs the cache, not the speech', async (t) => {
  const dir = freshDir();
  const logger = recordingLogger();
  const speech = await createSpeech({ cacheDir: dir, logger });
  // A real fault: the directory is gone and a file stands in its place (ENOTDIR on every write).
  rmSync(dir, { recursive: true });
  writeFileSync(dir, 'not a directory');
  const audio = await speech.speak('Mưa to đến rất to.');
  t.equal(audio.engine, 'espeak-ng');
  t.ok(rmsDbfs(audio.pcm) > -35, 'the speech is there');
  t.equal(speech.stats().cacheWriteErrors, 1);
  t.equal(audio.file, undefined, 'no file to name');
  t.match(logger.lines, [{ msg: /cannot store audio/, obj: { reason: /ENOTDIR/ } }]);
  rmSync(dir);
  mkdirSync(dir);
  t.equal((await speech.speak('Mưa to đến rất to.')).cached, false, 'once the disk is back, it caches again');
  t.equal((await speech.speak('Mưa to đến rất to.')).cached, true);
});

t.test('input is bounded and checked before any voice runs', async (t) => {
  const speech = await createSpeech({ cacheDir: freshDir(), maxTextChars: 100 });
  await t.rejects(speech.speak('a'.repeat(101)), { code: 'text_too_long', message: /101 characters; at most 100/, params: { length: 101, limit: 100 } });
  await t.rejects(speech.speak('  \n '), { code: 'empty_text' });
  await t.rejects(speech.speak('xin chào', { rate: 0 }), { code: 'bad_option' });
  t.same(speech.stats().synthesized, {});
});

t.test('a cloud voice over HTTP speaks when it works', async (t) => {
  const cloud = await cloudVoice(t);
  const logger = recordingLogger();
  const speech = await createSpeech({ cacheDir: freshDir(), cloud: { name: 'cloud-test', url: cloud.url, apiKey: 's3cret-key', voice: 'banmai' }, logger });
  const audio = await speech.speak('Lúc 14h30 mưa to.');
  t.equal(audio.engine, 'cloud-test');
  t.equal(audio.pcm.length, 48000, 'one second at 16 kHz becomes 48 000 samples');
  t.ok(Math.abs(dominantFrequency(audio.pcm, 48000) - 440) < 2, 'the cloud audio, resampled');
  t.equal(cloud.state.requests.length, 1);
  const [req] = cloud.state.requests;
  t.equal(req.headers.authorization, 'Bearer s3cret-key');
  t.same(req.body, { text: 'Lúc mười bốn giờ ba mươi phút mưa to.', language: 'vi', voice: 'banmai', rate: 1 });
  t.equal((await speech.speak('Lúc 14h30 mưa to.')).cached, true);
  t.equal(cloud.state.requests.length, 1, 'a cached text is not sent again');

  const vendor = new HttpSynthesizer({ url: cloud.url, apiKey: 'k2', apiKeyHeader: 'api-key' });
  await vendor.synthesize('xin chào', { voice: 'leminh', rate: 1.2 });
  t.equal(cloud.state.requests[1].headers['api-key'], 'k2', 'a vendor header carries the key as is');
  t.equal(cloud.state.requests[1].headers.authorization, undefined);
  t.same(cloud.state.requests[1].body, { text: 'xin chào', language: 'vi', voice: 'leminh', rate: 1.2 });
  t.throws(() => new HttpSynthesizer({ url: 'ftp://example.org/tts' }), /http or https/);
  t.throws(() => new HttpSynthesizer({ url: 'not a url' }), /not a URL/);
  t.equal(logger.lines.length, 0);
});

t.test('on any cloud fault espeak-ng speaks instead, and the reason is logged', async (t) => {
  const cloud = await cloudVoice(t);
  const faults: [Behaviour, string, RegExp][] = [
    ['error500', 'engine_failed', /HTTP 500: \{"error":"quota exceeded"\}/],
    ['hang', 'timeout', /did not answer within 1000 ms/],
    ['html', 'bad_audio', /text\/html, not audio/],
    ['garbage', 'bad_audio', /ffmpeg cannot decode/],
    ['huge', 'bad_audio', /sent more than 1048576 bytes/],
    ['hugeDeclared', 'bad_audio', /sent 3145728 bytes; at most 1048576 are accepted/],
  ];
  for (const [behaviour, code, reason] of faults) {
    cloud.state.behaviour = behaviour;
    const logger = recordingLogger();
    const speech = await createSpeech({
      cacheDir: freshDir(),
      // Only the hang needs a short bound; the others must fail for their own reason even on a loaded machine.
      cloud: { url: cloud.url, apiKey: 's3cret-key', timeoutMs: behaviour === 'hang' ? 1000 : 60_000, maxResponseBytes: 1024 * 1024 },
      logger,
    });
    const audio = await speech.speak('Bão số 3.');
    t.equal(audio.engine, 'espeak-ng', `${behaviour}: the offline voice spoke`);
    t.ok(rmsDbfs(audio.pcm) > -35 && audio.durationMs > 500, `${behaviour}: real speech (${audio.durationMs} ms)`);
    t.match(audio.fallbackReason, reason, `${behaviour}: the reason is given back`);
    t.match(logger.lines, [{ obj: { engine: 'http', code, reason } }], `${behaviour}: and logged`);
    t.notMatch(JSON.stringify(logger.lines), /s3cret/, `${behaviour}: the key is never logged`);
    t.equal(speech.stats().fallbacks, 1);
  }

  // Nothing listening at all.
  const closed = await createSpeech({ cacheDir: freshDir(), cloud: { url: 'http://127.0.0.1:1/tts' } });
  const audio = await closed.speak('Bão số 3.');
  t.equal(audio.engine, 'espeak-ng', 'connection refused: the offline voice spoke');
  t.match(audio.fallbackReason, /request failed/);
});

t.test('fallback audio does not stick: once the cloud voice is back, it speaks again', async (t) => {
  const cloud = await cloudVoice(t);
  const logger = recordingLogger();
  const speech = await createSpeech({ cacheDir: freshDir(), cloud: { url: cloud.url }, logger, logIntervalMs: 3_600_000 });
  cloud.state.behaviour = 'error500';
  t.equal((await speech.speak('Mưa lớn.')).engine, 'espeak-ng');
  const cachedFallback = await speech.speak('Mưa lớn.');
  t.equal(cachedFallback.engine, 'espeak-ng');
  t.equal(cachedFallback.cached, true, 'the offline audio is cached under its own key');
  t.equal(speech.stats().fallbacks, 2);
  t.equal(logger.lines.length, 1, 'the second fallback within the interval is counted, not logged');
  cloud.state.behaviour = 'ok';
  const back = await speech.speak('Mưa lớn.');
  t.equal(back.engine, 'http', 'the cloud voice speaks again');
  t.equal(back.fallbackReason, undefined);
});

t.test("the caller's abort stops everything: no fallback", async (t) => {
  const cloud = await cloudVoice(t);
  cloud.state.behaviour = 'hang';
  const speech = await createSpeech({ cacheDir: freshDir(), cloud: { url: cloud.url, timeoutMs: 60_000 } });
  const controller = new AbortController();
  const pending = speech.speak('Sơ tán ngay.', { signal: controller.signal });
  while (cloud.state.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  await t.rejects(pending, { name: 'SpeechError', code: 'aborted' });
  t.equal(speech.stats().fallbacks, 0);
  t.same(speech.stats().synthesized, {});
});

t.test('a burst of different texts runs at most maxConcurrent syntheses at a time; a waiting caller can abort', async (t) => {
  // The real espeak-ng, wrapped to count how many run at once and to hold them until the test opens the gate.
  const real = new EspeakSynthesizer();
  let now = 0;
  let peak = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const counting: Synthesizer = {
    name: 'espeak-ng-counted',
    identity: () => real.identity(),
    async synthesize(text: string, opts?: SynthesisOptions) {
      peak = Math.max(peak, ++now);
      try {
        await gate;
        return await real.synthesize(text, opts);
      } finally {
        now--;
      }
    },
  };
  const speech = await createSpeech({ cacheDir: freshDir(), primary: counting, maxConcurrent: 2 });
  const texts = Array.from({ length: 8 }, (_, i) => `Thông báo số ${i + 1}.`);
  const all = Promise.all(texts.map((text) => speech.speak(text)));
  const controller = new AbortController();
  const aborted = speech.speak('Thông báo bị huỷ.', { signal: controller.signal });
  while (speech.stats().queued < 7) await new Promise((r) => setTimeout(r, 5));
  t.equal(speech.stats().running, 2, 'two running, seven waiting');
  controller.abort();
  await t.rejects(aborted, { code: 'aborted' });
  t.equal(speech.stats().queued, 6, 'the aborted caller left the queue');
  open();
  const results = await all;
  t.equal(peak, 2, 'never more than two at once');
  t.same(results.map((r) => r.engine), texts.map(() => 'espeak-ng-counted'));
  t.same(results.map((r) => r.spokenText), texts.map((_, i) => `Thông báo số ${speech.normalize(String(i + 1))}.`));
  t.same(speech.stats().synthesized, { 'espeak-ng-counted': 8 }, 'the aborted text was never synthesised');
  t.equal(speech.stats().running, 0);
  t.equal(speech.stats().queued, 0);
});
