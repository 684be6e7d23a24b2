// Audio files for upload tests: a WAV written in JS (unique content per seed), and the
// other formats encoded from it by the real ffmpeg binary.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ffmpegPath } from '../../codecs/ffmpeg.js';
import { writeWavHeader } from '../../codecs/wav.js';

export { ffmpegPath };

/** A mono 16-bit WAV of a sine tone; `seed` changes the frequency (and so the bytes). */
export function toneWav(seconds = 0.5, seed = 0, sampleRate = 48000): Buffer {
  const n = Math.round(seconds * sampleRate);
  const buf = Buffer.alloc(44 + n * 2);
  writeWavHeader({ sampleRate, channels: 1, dataBytes: n * 2 }, buf);
  const f = 440 + seed * 7;
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * f * i) / sampleRate)), 44 + i * 2);
  return buf;
}

/** Encodes `wav` with ffmpeg into `dir/name` using the given output args; returns the bytes. */
export function encode(dir: string, wav: Buffer, name: string, args: string[]): Buffer {
  const input = path.join(dir, `${name}.src.wav`);
  const output = path.join(dir, name);
  writeFileSync(input, wav);
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', input, ...args, output], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${name}: ${r.stderr}`);
  return readFileSync(output);
}

/** A multipart/form-data body with fields and one file part. */
export function multipartBody(fields: Record<string, string>, file?: { name: string; data: Buffer; type?: string }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----loa${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\ncontent-type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
