/**
 * A small seeded pseudo-random generator (sfc32), so workloads, demos and tests are reproducible:
 * the same seed always yields the same click stream.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    // Discard the first outputs: sfc32 needs a few rounds to mix a small seed.
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /**
   * An integer in [0, n) drawn from a power-law (Zipf-like) distribution: low values are much more
   * likely, as a few users and pages dominate real click streams. `skew` 0 is uniform.
   */
  skewed(n: number, skew = 1.2): number {
    return Math.min(n - 1, Math.floor(n * Math.pow(this.next(), 1 + skew)));
  }
}
