// The sound card's own clock: a card whose crystal runs 50 ppm off the agent's clock
// drifts 180 ms an hour unless the agent measures it (from the card's delay reports)
// and follows it. Simulated time: one hour of 20 ms slots, a click train at the start
// and at the end, and the time each click actually leaves the simulated card.
//
// The card is simulated (no sound card on a test machine): it starts playing 40 ms
// after its first sample arrives and then consumes 48 kHz · (1 + ppm) samples per
// second of local time, like ALSA's hw pointer; its delay report is what it still holds.
import t from 'tap';
import { detectClicks } from '../../codecs/analysis.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder } from '../../codecs/registry.js';
import { ClickTrain } from '../../codecs/tone.js';
import type { AudioSink } from '../../endpoint/output.js';
import { OutputClock } from '../../endpoint/output-clock.js';
import { OutputPump } from '../../endpoint/output-pump.js';
import { Playout, type ServerClock } from '../../endpoint/playout.js';
import { SERVER_T0, simulateStream } from './sim-stream.js';

const OFFSET = 42_000.25; // server clock − agent clock
const DELAY = 200;
const clock: ServerClock = { synced: true, serverNow: (l) => l + OFFSET, localTimeOf: (s) => s - OFFSET };

class SimulatedCard implements AudioSink {
  readonly kind = 'null';
  frames = 0;
  readonly dropped = 0;
  written = 0;
  underruns = 0;
  startAt = NaN;
  maxDelayMs = 0;
  minDelayMs = Infinity;
  outputDelay?: (local: number) => number | null;
  /** Recorded stretches: [first sample index, samples]. */
  readonly recordings: { at: number; samples: number[] }[] = [];
  recording = false;
  private readonly rate: number;

  constructor(
    ppm: number,
    private readonly now: () => number,
    reports: boolean,
  ) {
    this.rate = 48 * (1 + ppm * 1e-6);
    if (reports) this.outputDelay = (local) => this.written - this.consumedAt(local);
  }

  consumedAt(local: number): number {
    return Number.isNaN(this.startAt) ? 0 : Math.max(0, (local - this.startAt) * this.rate);
  }

  /** Local time at which sample j leaves the card. */
  playedAt(j: number): number {
    return this.startAt + j / this.rate;
  }

  write(frame: Int16Array): void {
    const now = this.now();
    if (Number.isNaN(this.startAt)) this.startAt = now + 40;
    else {
      const held = this.written - this.consumedAt(now);
      if (held < 0) this.underruns++;
      if (this.frames > 100) {
        this.maxDelayMs = Math.max(this.maxDelayMs, held / 48);
        this.minDelayMs = Math.min(this.minDelayMs, held / 48);
      }
    }
    if (this.recording) {
      const last = this.recordings[this.recordings.length - 1];
      if (!last || last.at + last.samples.length !== this.written) this.recordings.push({ at: this.written, samples: [] });
      const r = this.recordings[this.recordings.length - 1];
      for (const v of frame) r.samples.push(v);
    }
    this.written += frame.length;
    this.frames++;
  }

  async close(): Promise<void> {}
}

function clicks(frames: number): Int16Array {
  const pcm = new Int16Array(frames * FRAME_SAMPLES);
  new ClickTrain({ intervalMs: 250, offsetMs: 30, clickMs: 4, amplitude: 0.6 }).fill(pcm);
  return pcm;
}

/** Plays an hour with a card at `ppm`; returns the click errors (heard − due, ms) at the start and the end. */
function hour(ppm: number, reports: boolean) {
  const hourFrames = 3600 * 50;
  const spurt = 100; // 2 s of clicks
  const packets = simulateStream('l16', [
    { startFrame: 0, pcm: clicks(spurt) },
    { startFrame: hourFrames - spurt, pcm: clicks(spurt) },
  ]);
  let local = SERVER_T0 - OFFSET + DELAY - 1000;
  const card = new SimulatedCard(ppm, () => local, reports);
  const outputClock = new OutputClock();
  // Without delay reports the card's 40 ms start-up buffer is all the agent can be told (a fixed latency).
  const pump = new OutputPump({ sink: card, serverNow: (l) => clock.serverNow(l), outputClock, latencyMs: reports ? 0 : 40 });
  const p = new Playout({ decoder: createDecoder('l16'), clock, playoutDelayMs: DELAY });
  let next = 0;
  const starts = [0, hourFrames - spurt].map((f) => SERVER_T0 + f * 20);
  for (let k = 0; k < hourFrames + 100; k++, local += 20) {
    for (; next < packets.length && packets[next].arrivalServerMs - OFFSET <= local; next++) {
      const q = packets[next];
      if (q.kind === 'sr') p.onSenderReport(q.serverMs, q.ts);
      else p.push(q.seq, q.ts, q.payload, q.arrivalServerMs - OFFSET, q.marker);
    }
    const serverNow = local + OFFSET;
    card.recording = starts.some((s) => serverNow >= s + DELAY - 400 && serverNow < s + DELAY + spurt * 20 + 400);
    pump.play(p, local);
  }
  const errors = card.recordings.map((r, i) => {
    const heard = detectClicks(r.samples, 48_000, -10, { minGapMs: 100 }).map((ms) => card.playedAt(r.at + Math.round(ms * 48)));
    const due = Array.from({ length: 8 }, (_, k) => starts[i] + 30 + k * 250 + DELAY - OFFSET);
    return { heard: heard.length, worst: Math.max(...due.map((d, k) => Math.abs((heard[k] ?? Infinity) - d))), mean: due.reduce((a, d, k) => a + (heard[k] - d), 0) / due.length };
  });
  return { errors, card, outputClock, p };
}

for (const ppm of [50, -50]) {
  t.test(`a card at ${ppm > 0 ? '+' : ''}${ppm} ppm: measured from its delay reports and followed`, async (t) => {
    const { errors, card, outputClock, p } = hour(ppm, true);
    t.equal(errors.length, 2, 'both click trains recorded');
    t.equal(errors[0].heard, 8, 'every click of the first train heard');
    t.equal(errors[1].heard, 8, 'every click of the last train heard');
    t.ok(errors[0].worst < 1, `at the start: clicks within ${errors[0].worst.toFixed(3)} ms of due`);
    t.ok(errors[1].worst < 1, `after an hour: clicks within ${errors[1].worst.toFixed(3)} ms of due (uncompensated: ${(ppm * 3.6).toFixed(0)} ms)`);
    t.ok(Math.abs(outputClock.ratePpm - ppm) < 1, `the card's rate measured as ${outputClock.ratePpm.toFixed(2)} ppm`);
    t.equal(card.underruns, 0, 'the card never ran dry');
    t.ok(card.maxDelayMs - card.minDelayMs < 25, `its buffer stayed level (${card.minDelayMs.toFixed(1)}–${card.maxDelayMs.toFixed(1)} ms)`);
    t.equal(p.stats.resyncs, 0, 'no re-anchor');
    t.equal(p.stats.concealed + p.stats.underruns, 0, 'no concealment');
  });
}

t.test('the same card without delay reports drifts (what the test above guards against)', async (t) => {
  const { errors } = hour(-50, false);
  t.ok(errors[0].worst < 1, 'on time at the start');
  t.ok(Math.abs(errors[1].mean - 180) < 5, `an hour later the clicks are ${errors[1].mean.toFixed(1)} ms late`);
});
