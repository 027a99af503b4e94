/**
 * Per-subscription ARM call budget of one instance: a token bucket of
 * `perMinute` calls per service minute (scaled by `scale` in simulated mode),
 * with a burst of the same size. The engine asks before advancing an
 * operation, so a burst of due operations is spread instead of triggering
 * ARM throttling (ARM allows about 12 000 reads and 1 200 writes per hour
 * and subscription).
 */
export class ArmBudget {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #perMs: number;

  /**
   * @param perMinute calls per service minute and burst size (≥ 1).
   * @param scale wall seconds per service second (1 outside simulated mode).
   */
  constructor(
    readonly perMinute: number,
    readonly scale: number = 1,
  ) {
    this.#perMs = perMinute / (60_000 * scale);
  }

  #bucket(subscriptionId: string, now: number): { tokens: number; at: number } {
    const key = subscriptionId.toLowerCase();
    let b = this.#buckets.get(key);
    if (!b) {
      b = { tokens: this.perMinute, at: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    return b;
  }

  /** Takes `count` tokens if available; false (nothing taken) otherwise. */
  tryTake(subscriptionId: string, now: number, count = 1): boolean {
    const b = this.#bucket(subscriptionId, now);
    if (b.tokens < count) return false;
    b.tokens -= count;
    return true;
  }

  /** Records calls made beyond what was taken (may go negative: later calls wait longer). */
  charge(subscriptionId: string, now: number, count: number): void {
    this.#bucket(subscriptionId, now).tokens -= count;
  }

  /** Gives back tokens taken but not used. */
  refund(subscriptionId: string, now: number, count: number): void {
    const b = this.#bucket(subscriptionId, now);
    b.tokens = Math.min(this.perMinute, b.tokens + count);
  }

  /** Wall ms until one token is available. */
  waitMs(subscriptionId: string, now: number): number {
    const b = this.#bucket(subscriptionId, now);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.#perMs);
  }
}
