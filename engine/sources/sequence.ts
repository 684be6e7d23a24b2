import type { Frame } from '../../codecs/pcm.js';
import type { PullResult, Source } from './source.js';

/**
 * Plays sources one after the other without a gap: when one ends inside a
 * pull, the next fills the same frame. The next item is prefetched as soon as
 * the current one starts, so a file starts on its frame. An item that fails
 * ends the whole sequence with its error (the programme's as-run row says why).
 */
export class SequenceSource implements Source {
  readonly kind = 'sequence';
  readonly live = false;
  private index = 0;
  private donePositionMs: number;
  private started = false;
  private failure: string | undefined;

  constructor(
    private readonly items: Source[],
    donePositionMs = 0,
  ) {
    this.donePositionMs = donePositionMs;
  }

  get positionMs(): number {
    const cur = this.items[this.index];
    return this.donePositionMs + (cur ? cur.positionMs : 0);
  }
  get error(): string | undefined {
    return this.failure;
  }
  get ready(): boolean {
    const cur = this.items[this.index];
    return !cur || cur.ready;
  }
  prepare(): void {
    this.items[this.index]?.prepare();
  }

  pull(frame: Frame): PullResult {
    for (;;) {
      const cur = this.items[this.index];
      if (!cur || this.failure) {
        frame.fill(0);
        return 'ended';
      }
      if (!this.started) {
        this.started = true;
        cur.prepare();
        this.items[this.index + 1]?.prepare();
      }
      const r = cur.pull(frame);
      if (r !== 'ended') return r;
      if (cur.error) {
        this.failure = `item ${this.index + 1}: ${cur.error}`;
        continue;
      }
      this.donePositionMs += cur.positionMs;
      cur.close();
      this.index++;
      this.started = false;
    }
  }

  fork(): Source {
    return new SequenceSource(
      this.items.slice(this.index).map((s) => s.fork()),
      this.donePositionMs,
    );
  }

  close(): void {
    for (let i = this.index; i < this.items.length; i++) this.items[i].close();
    this.index = this.items.length;
  }
}
