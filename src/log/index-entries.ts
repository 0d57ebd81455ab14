/**
 * What the two index kinds share, as Kafka's AbstractIndex does for them: fixed-size entries in a
 * Buffer laid out exactly like the file (so writing it is one write of the used prefix and
 * loading it is one read), growth by doubling, and the binary search for the greatest entry whose
 * key is at or below a target.
 */
export abstract class IndexEntries {
  protected buf: Buffer;
  protected count: number;

  /** `bytes`, when given, must already have passed the subclass's sanity check. */
  constructor(
    readonly baseOffset: number,
    private readonly entrySize: number,
    bytes?: Buffer,
  ) {
    this.buf = bytes ?? Buffer.allocUnsafe(64 * entrySize);
    this.count = bytes === undefined ? 0 : bytes.length / entrySize;
  }

  get entries(): number {
    return this.count;
  }

  /** The file's exact content (a view; copy it to keep it past the next append). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.count * this.entrySize);
  }

  /** Makes room for one more entry and returns its byte position; the caller writes it, then counts it. */
  protected nextEntryPosition(): number {
    const at = this.count * this.entrySize;
    if (at + this.entrySize > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(64 * this.entrySize, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    return at;
  }

  /** The slot of the greatest entry whose key (`keyAt`, ascending by slot) is <= `target`, or -1. */
  protected greatestSlotAtOrBelow(target: number, keyAt: (slot: number) => number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
