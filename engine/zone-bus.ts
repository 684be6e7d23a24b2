/**
 * One bus per zone that someone can hear (endpoints, a multicast group, a
 * listener) or that a programme covers. It airs one programme's lane at a
 * time and makes every switch click-free: the first FADE_SAMPLES of a switch
 * frame cross-fade from the last sample that was played (held and ramped to
 * zero) into the new audio ramped up from zero. Ramping the held sample
 * instead of pulling the old programme once more keeps the old programme's
 * position exact (it resumes on the very sample where it stopped).
 * A bus with nothing on air sends nothing; a bus nobody hears copies nothing.
 */
import { FRAME_SAMPLES, newFrame, type Frame } from '../codecs/pcm.js';

/** 5 ms at 48 kHz. */
export const FADE_SAMPLES = 240;

/** Something that consumes a zone's frames (a stream per codec, an HTTP listener, a test). */
export interface BusSink {
  /**
   * Called for every frame while the zone is on air, plus one faded-out frame
   * when it goes off air. `talkSpurt` is true on the first frame after silence
   * (RTP marker). The frame is only valid during the call.
   */
  write(n: number, frame: Frame, talkSpurt: boolean): void;
  /** The zone went off air after frame n (its last frame was the fade-out). */
  idle?(n: number): void;
}

export class ZoneBus {
  readonly frame: Frame = newFrame();
  /** Id of the programme on air (null: off air). */
  onAir: string | null = null;
  private airing = false;
  private held = 0;
  private readonly sinks = new Set<BusSink>();
  private closed = false;
  /** Frames written to sinks. */
  framesOut = 0;

  constructor(readonly zoneId: string) {}

  get isAiring(): boolean {
    return this.airing;
  }
  get sinkCount(): number {
    return this.sinks.size;
  }

  addSink(sink: BusSink): void {
    if (!this.closed) this.sinks.add(sink);
  }
  removeSink(sink: BusSink): void {
    this.sinks.delete(sink);
  }

  /**
   * Produces frame n: `programmeId` is the winner (null: nothing), `audio`
   * its lane's frame (null: silence while on air, e.g. waiting for data).
   */
  deliver(n: number, programmeId: string | null, audio: Frame | null): void {
    const switched = programmeId !== this.onAir;
    this.onAir = programmeId;
    if (programmeId === null && !this.airing) return;
    const out = this.frame;
    const talkSpurt = programmeId !== null && !this.airing;
    const hear = this.sinks.size > 0;
    if (hear) {
      if (audio && programmeId !== null) out.set(audio);
      else out.fill(0);
      if (switched) crossfadeFromHeld(out, this.held);
    }
    this.held = hear ? out[FRAME_SAMPLES - 1] : 0;
    this.airing = programmeId !== null;
    if (!hear) return;
    this.framesOut++;
    for (const s of this.sinks) s.write(n, out, talkSpurt);
    if (!this.airing) for (const s of this.sinks) s.idle?.(n);
  }

  close(): void {
    this.closed = true;
    this.sinks.clear();
  }
}

/** Ramps `held` down to 0 and the frame's own start up from 0 over FADE_SAMPLES. */
export function crossfadeFromHeld(frame: Frame, held: number): void {
  for (let i = 0; i < FADE_SAMPLES; i++) {
    const g = i / FADE_SAMPLES;
    frame[i] = Math.round(held * (1 - g) + frame[i] * g);
  }
}
