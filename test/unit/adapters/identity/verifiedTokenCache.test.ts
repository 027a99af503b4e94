import { test } from "node:test";
import assert from "node:assert/strict";
import { VerifiedTokenCache } from "../../../../src/adapters/identity/verifiedTokenCache.js";
import type { Principal } from "../../../../src/domain/identity/principal.js";

const alice: Principal = Object.freeze({
  id: "o-1",
  name: "alice",
  team: "alpha",
  roles: Object.freeze(["Sandbox.Reader" as const]),
  appId: undefined,
});

function cacheAt(clock: { ms: number }, maxEntries?: number): VerifiedTokenCache {
  return new VerifiedTokenCache({
    clockToleranceSeconds: 30,
    now: () => clock.ms,
    ...(maxEntries ? { maxEntries } : {}),
  });
}

test("a verified token is answered until exp + tolerance, then never again", () => {
  const clock = { ms: 1_000_000_000_000 };
  const cache = cacheAt(clock);
  const exp = clock.ms / 1000 + 60;
  const key = VerifiedTokenCache.keyOf("header.payload.signature");
  cache.set(key, alice, exp);
  assert.equal(cache.get(key, 0), alice);
  clock.ms = (exp + 29) * 1000;
  assert.equal(cache.get(key, 0), alice, "still inside the clock tolerance");
  clock.ms = (exp + 30) * 1000;
  assert.equal(cache.get(key, 0), undefined, "jose: expired when exp <= now - tolerance");
  clock.ms = 1_000_000_000_000;
  assert.equal(cache.get(key, 0), undefined, "the expired entry is gone, not hidden");
});

test("no hit when the keys were fetched after the verification, or their freshness is unknown", () => {
  const clock = { ms: 1_000_000_000_000 };
  const cache = cacheAt(clock);
  const key = VerifiedTokenCache.keyOf("a.b.c");
  cache.set(key, alice, clock.ms / 1000 + 600);
  assert.equal(cache.get(key, undefined), undefined, "stale keys: verify again (and refetch)");
  cache.set(key, alice, clock.ms / 1000 + 600);
  assert.equal(cache.get(key, Date.now() + 1000), undefined, "keys refetched since: verify against the new set");
});

test("expired tokens are not stored; the key is a hash, never the token; the oldest entries go first", () => {
  const clock = { ms: 1_000_000_000_000 };
  const cache = cacheAt(clock, 2);
  cache.set(VerifiedTokenCache.keyOf("old"), alice, clock.ms / 1000 - 60);
  assert.equal(cache.size, 0);
  assert.ok(!VerifiedTokenCache.keyOf("secret.token.value").includes("secret"));
  for (const t of ["t1", "t2", "t3"]) cache.set(VerifiedTokenCache.keyOf(t), alice, clock.ms / 1000 + 600);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(VerifiedTokenCache.keyOf("t1"), 0), undefined);
  assert.equal(cache.get(VerifiedTokenCache.keyOf("t3"), 0), alice);
});
