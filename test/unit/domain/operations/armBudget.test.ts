import { test } from "node:test";
import assert from "node:assert/strict";
import { ArmBudget } from "../../../../src/domain/operations/armBudget.js";

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
