/**
 * A relay of a station: a stream URL (http(s), rtsp, rtp, udp, srt) decoded by
 * ffmpeg in realtime (codecs/ffmpeg.ts `realtime`). It is live: the station
 * does not wait for us, so the arbiter keeps pulling it while it is unheard,
 * and the decoder drops the oldest audio rather than grow a backlog.
 * `prepare()` connects and prebuffers `bufferMs`, which is also the most
 * latency the relay adds. A stall on the station's side plays as silence; the
 * relay ends when ffmpeg gives up (stream over, or unreachable).
 */
import { SAMPLE_RATE, FRAME_SAMPLES, type Frame } from '../../codecs/pcm.js';
import { openPcmStream, type PcmStream } from '../../codecs/ffmpeg.js';
import type { PullResult, Source } from './source.js';

/** Prebuffer and latency cap of a relay. */
export const RELAY_BUFFER_MS = 1000;

export class RelaySource implements Source {
  readonly kind = 'relay';
  readonly live = true;
  private stream: PcmStream | undefined;
  private isReady = false;
  private samples = 0;
  private failure: string | undefined;
  private closed = false;
  /** Frames that found no audio while the station had not ended (network stalls). */
  underruns = 0;

  constructor(
    readonly url: string,
    readonly bufferMs = RELAY_BUFFER_MS,
  ) {}

  get positionMs(): number {
    return (this.samples * 1000) / SAMPLE_RATE;
  }
  get error(): string | undefined {
    return this.failure;
  }
  get ready(): boolean {
    return this.isReady || this.failure !== undefined;
  }

  prepare(): void {
    if (this.stream || this.closed) return;
    try {
      const stream = openPcmStream(this.url, { realtime: true, readaheadMs: this.bufferMs });
      this.stream = stream;
      void stream.ready().then(() => {
        this.isReady = true;
      });
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
    }
  }

  pull(frame: Frame): PullResult {
    if (this.failure !== undefined || this.closed) {
      frame.fill(0);
      return 'ended';
    }
    if (!this.stream) this.prepare();
    const stream = this.stream;
    if (!stream) {
      frame.fill(0);
      return 'ended';
    }
    const n = stream.read(frame);
    if (n > 0) {
      if (n < FRAME_SAMPLES) frame.fill(0, n);
      this.samples += n;
      return 'audio';
    }
    frame.fill(0);
    if (stream.error) {
      this.failure = stream.error.message;
      return 'ended';
    }
    if (stream.ended) return 'ended';
    if (this.isReady) this.underruns++;
    return 'silence';
  }

  /** Live audio has no read-head to share: a fork is a second connection to the station. */
  fork(): Source {
    return new RelaySource(this.url, this.bufferMs);
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
    this.stream = undefined;
  }
}
