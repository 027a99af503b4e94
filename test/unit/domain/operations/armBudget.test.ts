import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ArmBudget,
  SharedArmBudget,
  type BudgetGrant,
  type BudgetLedger,
} from "../../../../src/domain/operations/armBudget.js";

test("the per-subscription budget allows a burst, then refills per (scaled) minute", () => {
  const budget = new ArmBudget(60, 0.01); // 60 calls per simulated minute = 1 per 10 wall ms
  for (let i = 0; i < 60; i++) assert.ok(budget.tryTake("s1", 1000));
  assert.equal(budget.tryTake("s1", 1000), false);
  assert.ok(budget.tryTake("s2", 1000), "other subscriptions have their own bucket");
  assert.equal(budget.waitMs("s1", 1000), 10);
  assert.ok(budget.tryTake("s1", 1010));
  budget.refund("s1", 1010, 1);
  assert.ok(budget.tryTake("s1", 1010));
});

/** A typed in-memory fake of the BudgetLedger port: one bucket per subscription. */
class MemoryLedger implements BudgetLedger {
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  granted = 0;
  async take(
    subscriptionId: string,
    wanted: number,
    bucket: { perMinute: number; scale: number; now: number },
  ): Promise<BudgetGrant> {
    const perMs = bucket.perMinute / (60_000 * bucket.scale);
    const b = this.buckets.get(subscriptionId) ?? { tokens: bucket.perMinute, at: bucket.now };
    b.tokens = Math.min(bucket.perMinute, b.tokens + (bucket.now - b.at) * perMs);
    b.at = bucket.now;
    const granted = Math.min(wanted, Math.floor(b.tokens));
    b.tokens -= granted;
    this.buckets.set(subscriptionId, b);
    this.granted += granted;
    return { granted, waitMs: granted ? 0 : Math.ceil((1 - b.tokens) / perMs) };
  }
}

test("three instances drawing from one shared budget together spend at most one budget", async () => {
  const ledger = new MemoryLedger();
  const instances = [0, 1, 2].map(() => new SharedArmBudget(ledger, 40, 1));
  let spent = 0;
  const now = 5_000;
  for (let round = 0; round < 100; round++) {
    for (const budget of instances) {
      if (budget.tryTake("s1", now)) spent++;
      else await budget.refill("s1", now);
    }
  }
  assert.ok(spent <= 40, `spent ${spent} of a budget of 40`);
  assert.ok(spent >= 40 - 3 * instances[0]!.chunk, `tokens held back locally: ${40 - spent}`);
  assert.equal(ledger.granted, 40);
  // A service minute later the shared bucket is full again — for all of them together.
  let later = 0;
  for (let round = 0; round < 100; round++) {
    for (const budget of instances) {
      if (budget.tryTake("s1", now + 60_000)) later++;
      else await budget.refill("s1", now + 60_000);
    }
  }
  assert.ok(spent + later <= 80, `spent ${spent + later} over two minutes`);
});

test("a shared budget pays calls charged beyond its tokens out of its next batch; a failing ledger grants nothing", async () => {
  const ledger = new MemoryLedger();
  const budget = new SharedArmBudget(ledger, 20, 1, 5);
  assert.equal(budget.tryTake("s", 0), false, "nothing local before the first batch");
  await budget.refill("s", 0);
  assert.ok(budget.tryTake("s", 0));
  budget.charge("s", 0, 10);
  assert.equal(budget.tryTake("s", 0), false, "in debt");
  assert.ok(budget.waitMs("s", 0) > 0);
  const broken = new SharedArmBudget({ take: () => Promise.reject(new Error("storage down")) }, 20, 1);
  await broken.refill("s", 0);
  assert.equal(broken.tryTake("s", 0), false);
  assert.ok(broken.waitMs("s", 0) >= 1000);
});
