/**
 * Majority votes of each bit over many 64-bit features (simhash's last step), counted
 * eight bits at a time: each accumulator holds four byte-wide counters, one per byte of
 * a half, so adding a feature costs sixteen shift-mask-adds instead of a loop over its
 * 64 bits. Counters are emptied into exact totals before a byte can overflow. Pure.
 */

/** Features a byte-wide counter holds before it is emptied. */
const BYTE_MAX = 255;
const LANES = 0x01010101;

/** Counts, per bit of two 32-bit halves, the features that have it set. */
export class BitVotes {
  /** [0, 8): bit j of each byte of the high half; [8, 16): of the low half. */
  private readonly lanes: number[] = new Array<number>(16).fill(0);
  /** Exact totals: bit b of the high half at b, of the low half at 32 + b. */
  private readonly ones: number[] = new Array<number>(64).fill(0);
  private unflushed = 0;
  /** Features added. */
  features = 0;

  /** Forgets every feature (an instance is reused: allocating its arrays per prompt costs more than the votes). */
  reset(): void {
    this.lanes.fill(0);
    this.ones.fill(0);
    this.unflushed = 0;
    this.features = 0;
  }

  /** Adds one feature, as its two unsigned 32-bit halves. */
  add(hi: number, lo: number): void {
    const lanes = this.lanes;
    for (let j = 0; j < 8; j++) {
      lanes[j] += (hi >>> j) & LANES;
      lanes[8 + j] += (lo >>> j) & LANES;
    }
    this.features++;
    if (++this.unflushed === BYTE_MAX) this.flush();
  }

  /** The majority: bit b set when more than half the features have it. */
  majority(): readonly [number, number] {
    this.flush();
    const ones = this.ones;
    let hi = 0;
    let lo = 0;
    for (let b = 0; b < 32; b++) {
      if (2 * ones[b] > this.features) hi |= 1 << b;
      if (2 * ones[32 + b] > this.features) lo |= 1 << b;
    }
    return [hi >>> 0, lo >>> 0];
  }

  private flush(): void {
    const { lanes, ones } = this;
    for (let j = 0; j < 8; j++) {
      for (let byte = 0; byte < 4; byte++) {
        ones[8 * byte + j] += (lanes[j] >>> (8 * byte)) & 0xff;
        ones[32 + 8 * byte + j] += (lanes[8 + j] >>> (8 * byte)) & 0xff;
      }
      lanes[j] = 0;
      lanes[8 + j] = 0;
    }
    this.unflushed = 0;
  }
}
