/**
 * The engine's view of the per-subscription ARM call budget: synchronous,
 * so a tick never waits for storage to ask. {@link ArmBudget} is one
 * instance's; {@link SharedArmBudget} draws from a budget all instances share.
 */
export interface ArmCallBudget {
  /** Takes `count` tokens if available; false (nothing taken) otherwise. */
  tryTake(subscriptionId: string, now: number, count?: number): boolean;
  /** Records calls made beyond what was taken. */
  charge(subscriptionId: string, now: number, count: number): void;
  /** Gives back tokens taken but not used. */
  refund(subscriptionId: string, now: number, count: number): void;
  /** Wall ms until a token is likely available. */
  waitMs(subscriptionId: string, now: number): number;
  /** For shared budgets: fetches tokens now (the engine awaits it once before deferring work). */
  refill?(subscriptionId: string, now: number): Promise<void>;
}

/**
 * Per-subscription ARM call budget of one instance: a token bucket of
 * `perMinute` calls per service minute (scaled by `scale` in simulated mode),
 * with a burst of the same size. The engine asks before advancing an
 * operation, so a burst of due operations is spread instead of triggering
 * ARM throttling (ARM allows about 12 000 reads and 1 200 writes per hour
 * and subscription).
 */
export class ArmBudget implements ArmCallBudget {
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

/** What a {@link BudgetLedger} grants. */
export interface BudgetGrant {
  /** Tokens granted now (0 … wanted). */
  granted: number;
  /** Wall ms until the next token accrues (when nothing was granted). */
  waitMs: number;
}

/**
 * Port: the shared token buckets (one per subscription) that every instance
 * draws from — e.g. a Table row per subscription updated with `If-Match`.
 * A bucket holds at most `perMinute` tokens and gains `perMinute` per service
 * minute (`scale` wall seconds per service second).
 */
export interface BudgetLedger {
  take(
    subscriptionId: string,
    wanted: number,
    bucket: { perMinute: number; scale: number; now: number },
  ): Promise<BudgetGrant>;
}

/**
 * A per-subscription ARM budget shared by every instance: each instance
 * draws small batches of tokens (`chunk`, default 1/20 of the budget) from
 * the {@link BudgetLedger} in the background and spends them locally, so N
 * instances together stay within one budget (plus at most N × chunk tokens
 * held locally) without a storage round trip per ARM call. Calls charged
 * beyond what was taken are paid back from the next batch. When the ledger
 * cannot be reached the instance spends nothing new (it waits a second and
 * asks again).
 */
export class SharedArmBudget implements ArmCallBudget {
  readonly #local = new Map<string, { tokens: number; retryAt: number; refilling: Promise<void> | undefined }>();
  readonly #msPerToken: number;
  readonly chunk: number;

  constructor(
    readonly ledger: BudgetLedger,
    readonly perMinute: number,
    readonly scale: number = 1,
    chunk?: number,
  ) {
    this.#msPerToken = (60_000 * scale) / perMinute;
    this.chunk = Math.max(1, Math.min(perMinute, chunk ?? Math.ceil(perMinute / 20)));
  }

  #entry(subscriptionId: string): { tokens: number; retryAt: number; refilling: Promise<void> | undefined } {
    const key = subscriptionId.toLowerCase();
    let entry = this.#local.get(key);
    if (!entry) {
      entry = { tokens: 0, retryAt: 0, refilling: undefined };
      this.#local.set(key, entry);
    }
    return entry;
  }

  /** Asks the ledger for a batch unless one is on its way or the ledger said to wait. Resolves when done. */
  refill(subscriptionId: string, now: number): Promise<void> {
    const entry = this.#entry(subscriptionId);
    if (entry.refilling) return entry.refilling;
    if (now < entry.retryAt) return Promise.resolve();
    // A negative balance (calls charged beyond tokens) is paid first.
    const wanted = Math.max(1, this.chunk - Math.floor(entry.tokens));
    entry.refilling = this.ledger
      .take(subscriptionId.toLowerCase(), wanted, { perMinute: this.perMinute, scale: this.scale, now })
      .then(
        (grant) => {
          entry.tokens += grant.granted;
          if (grant.granted === 0) entry.retryAt = now + Math.max(1, grant.waitMs);
        },
        () => {
          entry.retryAt = now + 1000;
        },
      )
      .finally(() => {
        entry.refilling = undefined;
      });
    return entry.refilling;
  }

  tryTake(subscriptionId: string, now: number, count = 1): boolean {
    const entry = this.#entry(subscriptionId);
    if (entry.tokens >= count) {
      entry.tokens -= count;
      if (entry.tokens < this.chunk / 2) void this.refill(subscriptionId, now);
      return true;
    }
    void this.refill(subscriptionId, now);
    return false;
  }

  charge(subscriptionId: string, _now: number, count: number): void {
    this.#entry(subscriptionId).tokens -= count;
  }

  refund(subscriptionId: string, _now: number, count: number): void {
    this.#entry(subscriptionId).tokens += count;
  }

  waitMs(subscriptionId: string, now: number): number {
    const entry = this.#entry(subscriptionId);
    if (entry.tokens >= 1) return 0;
    return Math.max(Math.ceil(this.#msPerToken), entry.retryAt - now, entry.refilling ? 50 : 0);
  }
}
