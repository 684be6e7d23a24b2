/**
 * Lateness of the frames of untouched zones while a preemption forks a
 * programme (issue target: ≤ 5 ms). One media plane on the real clock, in
 * this process (the same code the media worker runs): a siren on one commune
 * and an mp3 on another, four villages each, every village heard by a
 * listener that stamps each frame against its due time. At each age a
 * one-second alert takes one siren village, then three seconds later one file
 * village; the frames of the other zones in the second around each preemption
 * are compared with a quiet window before.
 *
 *   node --import tsx bench/fork-lateness.ts [--ages-s 30,120] [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ffmpegPath } from '../codecs/ffmpeg.js';
import { MediaPlane } from '../engine/plane.js';
import { PRIORITY } from '../domain/priority.js';
import { median, percentile } from './percentiles.js';

const VILLAGES = 4;

interface Window {
  label: string;
  /** Frames of untouched zones in the window. */
  frames: number;
  /** Gaps in frame numbers (dropped frames) of untouched zones. */
  missing: number;
  p99Ms: number;
  maxMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function makeMp3(dir: string, seconds: number): string {
  const out = path.join(dir, 'programme.mp3');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`, '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', out]);
  return out;
}

async function runOnce(mp3: string, ages: number[]): Promise<Window[]> {
  const plane = await MediaPlane.open({ rtpPort: 0, rtpHost: '127.0.0.1', emit: () => {}, statsIntervalMs: 0 });
  const zones = [{ id: 'd', parentId: null }, { id: 'cs', parentId: 'd' }, { id: 'cf', parentId: 'd' }];
  const villages: string[] = [];
  for (const c of ['s', 'f']) {
    for (let i = 1; i <= VILLAGES; i++) {
      zones.push({ id: `${c}${i}`, parentId: `c${c}` });
      villages.push(`${c}${i}`);
    }
  }
  plane.handle({ type: 'setZones', zones });
  // Per zone: frame number, its due time (monotonic ms), and how late it was written.
  const stamps = new Map<string, { n: number; late: number; due: number }[]>();
  for (const v of villages) {
    const list: { n: number; late: number; due: number }[] = [];
    stamps.set(v, list);
    plane.listen(v, {
      write: (n) => {
        const due = plane.clock.frameDue(n);
        list.push({ n, late: performance.now() - due, due });
      },
    });
  }
  plane.handle({ type: 'play', programmeId: 'siren', zones: ['cs'], priority: PRIORITY.normal, source: { kind: 'siren', lowHz: 600, highHz: 1200, periodMs: 4000 } });
  plane.handle({ type: 'play', programmeId: 'file', zones: ['cf'], priority: PRIORITY.normal, source: { kind: 'file', path: mp3 } });
  const t0 = performance.now();
  const windows: Window[] = [];
  const measure = (label: string, from: number, to: number, touched: string): void => {
    const late: number[] = [];
    let missing = 0;
    for (const [zone, list] of stamps) {
      if (zone === touched) continue;
      let prev: number | undefined;
      for (const s of list) {
        // By due time: a frame held up by a stall counts in the window where it was due.
        if (s.due < from || s.due > to) continue;
        late.push(s.late);
        if (prev !== undefined && s.n !== prev + 1) missing += s.n - prev - 1;
        prev = s.n;
      }
    }
    late.sort((a, b) => a - b);
    windows.push({ label, frames: late.length, missing, p99Ms: percentile(late, 99), maxMs: late.at(-1) ?? NaN });
  };
  let k = 0;
  for (const age of ages) {
    await sleep(t0 + age * 1000 - 4000 - performance.now());
    const quiet = performance.now();
    await sleep(3000);
    measure(`quiet before ${age} s`, quiet, performance.now(), '');
    for (const target of [`s${(k % VILLAGES) + 1}`, `f${(k % VILLAGES) + 1}`]) {
      const at = performance.now();
      plane.handle({ type: 'play', programmeId: `alert-${target}`, zones: [target], priority: PRIORITY.emergency, source: { kind: 'tone', freqHz: 1000, durationMs: 1000 } });
      await sleep(3000);
      measure(`${target.startsWith('s') ? 'siren' : 'file'} preempted at ${age} s`, at - 1000, at + 2000, target);
    }
    k++;
  }
  await plane.close();
  return windows;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
  };
  const ages = arg('--ages-s', '30,120').split(',').map(Number);
  const runs = Number(arg('--runs', '3'));
  const dir = mkdtempSync(path.join(tmpdir(), 'loa-fork-bench-'));
  try {
    const mp3 = makeMp3(dir, Math.max(...ages) + 30);
    const all: Window[][] = [];
    for (let r = 0; r < runs; r++) {
      const w = await runOnce(mp3, ages);
      for (const x of w) console.error(`run ${r + 1}: ${x.label}: max ${x.maxMs.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms, ${x.missing} missing of ${x.frames}`);
      all.push(w);
    }
    console.log('| window (untouched zones) | max lateness, median of runs | worst run | p99, median | frames missing (all runs) |');
    console.log('|---|---|---|---|---|');
    for (let i = 0; i < all[0].length; i++) {
      const col = all.map((w) => w[i]);
      const max = col.map((x) => x.maxMs);
      console.log(`| ${col[0].label} | ${median(max).toFixed(2)} ms | ${Math.max(...max).toFixed(2)} ms | ${median(col.map((x) => x.p99Ms)).toFixed(2)} ms | ${col.reduce((s, x) => s + x.missing, 0)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main(process.argv.slice(2));
