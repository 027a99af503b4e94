import { createHash } from "node:crypto";
import type { Principal } from "../../domain/identity/principal.js";

interface Entry {
  principal: Principal;
  /** The token's `exp`, epoch seconds. */
  exp: number;
  /** When the signature was checked, epoch ms of the real clock (the one jose stamps key fetches with). */
  verifiedAt: number;
}

/**
 * Principals of tokens whose signature and claims were fully verified, keyed
 * by the SHA-256 of the token (the token itself is not kept). An RS256 check
 * is the largest CPU cost of a status read, and clients repeat one token for
 * its whole lifetime, so a hit skips it — while answering exactly what a full
 * verification would:
 * - a hit is refused once `exp` has passed (with the same clock tolerance);
 * - a hit is refused when the signing keys were fetched again after it was
 *   verified (`keysFetchedAt`): a key removed from the JWKS then fails as it
 *   would uncached, at the same moment;
 * - failures are never cached (a token not valid yet may become valid).
 * Bounded: the oldest entries go first beyond `maxEntries`.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    /** `now`: the clock `exp` is checked against (epoch ms; default Date.now), as given to jose. */
    private readonly options: { clockToleranceSeconds: number; maxEntries?: number; now?: () => number },
  ) {}

  static keyOf(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
  }

  #now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** True while a token with this `exp` is still accepted (jose: expired when `exp <= now - tolerance`). */
  #unexpired(exp: number): boolean {
    return exp > Math.floor(this.#now() / 1000) - this.options.clockToleranceSeconds;
  }

  /**
   * The principal of an earlier verification of `key`, if it still holds.
   * @param keysFetchedAt epoch ms of the last JWKS fetch (undefined: unknown, no hit).
   */
  get(key: string, keysFetchedAt: number | undefined): Principal | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (keysFetchedAt === undefined || entry.verifiedAt < keysFetchedAt || !this.#unexpired(entry.exp)) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  /** Records a successful full verification. */
  set(key: string, principal: Principal, exp: number): void {
    if (!this.#unexpired(exp)) return;
    this.#entries.delete(key);
    this.#entries.set(key, { principal, exp, verifiedAt: Date.now() });
    const max = this.options.maxEntries ?? 10_000;
    while (this.#entries.size > max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
