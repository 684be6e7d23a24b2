// The seams the alert service offers: a speech synthesiser (here a stand-in that turns text
// into a tone whose pitch depends on the text, because the real Vietnamese voice is another
// module: what is tested is the plumbing: the text asked for, the WAV written once per text,
// played after the siren), the refusal of exercises outside drill zones when so configured,
// and a speech alert without a synthesiser (siren alone, and the audit says why).
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../server/app.js';
import { AlertAudioBuilder, type SpeechSynth } from '../../server/alerts/audio.js';
import { readWav } from '../../codecs/wav.js';
import { dominantFrequency } from '../../codecs/analysis.js';
import { startBroadcastServer } from '../integration/harness.js';
import type { Speech } from '../../speech/index.js';

// The speech module's voice plugs in as it is (checked by the type checker).
export const speechFits = (speech: Speech): SpeechSynth => speech;

const s = await startBroadcastServer(t);

/** Stand-in voice: 1 s of a tone at 300 + (text length mod 500) Hz; counts its calls. */
function toneVoice() {
  const texts: string[] = [];
  const synth: SpeechSynth = {
    async speak(text, opts) {
      texts.push(text);
      if (opts?.language !== 'vi') throw new Error(`asked for language ${opts?.language}`);
      const f = 300 + (text.length % 500);
      const pcm = new Int16Array(48_000);
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * f * i) / 48_000));
      return { pcm };
    },
  };
  return { synth, texts };
}

t.test('speech: synthesised once per text, played after the siren', async (t) => {
  const voice = toneVoice();
  const audio = new AlertAudioBuilder({ db: s.database.db, dataDir: s.config.dataDir, speech: voice.synth });
  const text = 'Bản tin phát lúc 14 giờ 30 phút ngày 27 tháng 11 năm 2026. Bão số 9.';
  const first = await audio.airing({ attention: { shape: 'wail', durationMs: 3000 }, message: { kind: 'speech' } }, text, 'vi-VN');
  t.same(first.warnings, []);
  t.match(first.spec, { kind: 'sequence', items: [{ kind: 'siren', durationMs: 3000 }, { kind: 'silence' }, { kind: 'file' }] });
  const file = (first.spec as { items: { path: string }[] }).items[2].path;
  const wav = readWav(file);
  t.equal(wav.samples.length, 48_000, 'the synthesised PCM, as a WAV');
  t.ok(Math.abs(dominantFrequency(wav.samples, 48_000) - (300 + (text.length % 500))) < 5, 'the voice’s audio');
  const again = await audio.airing({ attention: null, message: { kind: 'speech' } }, text, 'vi-VN');
  t.same(again.spec, { kind: 'file', path: file }, 'the same text: the same file');
  t.same(voice.texts, [text], 'synthesised once');
  const other = await audio.airing({ attention: null, message: { kind: 'speech' } }, `${text} Đây là tin thử nghiệm.`, 'vi-VN');
  t.not((other.spec as { path: string }).path, file, 'another text: another file');
  t.not(readFileSync((other.spec as { path: string }).path).equals(readFileSync(file)), true);
});

t.test('speech without a synthesiser: the siren alone, and the audit says why', async (t) => {
  // A second app on the same engine whose alerts have no voice (the app's default is the offline one).
  const app = await buildApp({ config: s.config, database: s.database, logger: s.host.logger, broadcast: s.host, alerts: { tickMs: 0, speech: undefined } });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const zone = await s.zone(null, 'Xã không có giọng đọc');
  const res = await fetch(`${url}/api/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ zoneIds: [zone.id], event: 'Bão', severity: 'Severe', headline: 'Bão', attention: { durationMs: 1000 }, message: { kind: 'speech' } }),
  });
  const r = { status: res.status, body: (await res.json()) as any };
  t.equal(r.status, 201);
  t.match(r.body.audit, [{ action: 'create' }, { action: 'audio-warning', by: 'system', detail: { warnings: ['speech_unavailable'] } }]);
  const p = s.host.catalog.get(r.body.airings[0].programmeId);
  t.equal(p?.kind, 'alert', 'it aired anyway');
  await s.api('POST', `/api/v1/alerts/${r.body.id}/cancel`, {});
});

t.test('exercises only in drill zones, when so configured', async (t) => {
  // A second app on the same engine, with the drill rule on and a voice plugged in.
  const voice = toneVoice();
  const app = await buildApp({ config: s.config, database: s.database, logger: s.host.logger, broadcast: s.host, alerts: { drillZonesOnly: true, tickMs: 0, speech: voice.synth } });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const post = async (body: unknown) => {
    const res = await fetch(`${url}/api/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json', 'accept-language': 'en' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const plain = await s.zone(null, 'Xã thường');
  const drill = await s.zone(null, 'Xã diễn tập');
  await s.api('PATCH', `/api/v1/zones/${drill.id}`, { drill: true });
  const base = { event: 'Diễn tập sơ tán', severity: 'Minor', headline: 'Diễn tập sơ tán', attention: null, message: { kind: 'speech' } };
  const refused = await post({ ...base, zoneIds: [plain.id], status: 'Exercise' });
  t.equal(refused.status, 422);
  t.match(refused.body.message, /drill zone/);
  const ok = await post({ ...base, zoneIds: [drill.id], status: 'Exercise' });
  t.equal(ok.status, 201);
  t.equal(voice.texts.length, 1);
  t.match(voice.texts[0], /^Bản tin phát lúc .*\. Đây là tin diễn tập\. Diễn tập sơ tán\. Đây là tin diễn tập\.$/, 'the voice is asked to say the labelled text');
  const actual = await post({ ...base, zoneIds: [plain.id], status: 'Actual' });
  t.equal(actual.status, 201, 'an actual alert airs anywhere');
  for (const id of [ok.body.id, actual.body.id]) {
    await fetch(`${url}/api/v1/alerts/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' }, body: '{}' });
  }
});
