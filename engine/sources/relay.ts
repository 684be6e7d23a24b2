/**
 * A relay of a station: a stream URL (http(s), rtsp, rtp, udp, srt) decoded by
 * ffmpeg in realtime (codecs/ffmpeg.ts `realtime`). It is live: the station
 * does not wait for us, so the arbiter keeps pulling it while it is unheard,
 * and the decoder drops the oldest audio rather than grow a backlog.
 * `prepare()` connects and prebuffers `bufferMs`, which is also the most
 * latency the relay adds. A stall on the station's side plays as silence; the
 * relay ends when ffmpeg gives up (stream over, or unreachable).
 */
import { openPcmStream, type PcmStream } from '../../codecs/ffmpeg.js';
import { DecodedSource } from './decoded.js';
import type { Source } from './source.js';

/** Prebuffer and latency cap of a relay. */
export const RELAY_BUFFER_MS = 1000;

export class RelaySource extends DecodedSource {
  readonly kind = 'relay';
  readonly live = true;

  constructor(
    readonly url: string,
    readonly bufferMs = RELAY_BUFFER_MS,
  ) {
    super();
  }

  protected open(): PcmStream {
    return openPcmStream(this.url, { realtime: true, readaheadMs: this.bufferMs });
  }

  get positionMs(): number {
    return this.pulledMs;
  }

  /** Live audio has no read-head to share: a fork is a second connection to the station. */
  fork(): Source {
    return new RelaySource(this.url, this.bufferMs);
  }
}
