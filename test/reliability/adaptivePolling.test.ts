// Adaptive polling against ARM in its "no Retry-After" mode: ARM reads and how late a pool creation's end
// is noticed, in simulated time. At a time scale of 0.005 a 15 s lag is 75 ms of wall time, so this runs
// one file at a time with the other fault tests (`npm run test:reliability`), not among npm test's lanes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { measurePoolCreation } from "../support/poolCreationMeasurement.js";

// Figures from the emulator's log in simulated time (no wall-clock assertion).
test("a 3-minute pool creation with no Retry-After: ≤ 12 ARM reads, completion noticed ≤ 15 s after endTime", async () => {
  const r = await measurePoolCreation({ timeScale: 0.005, poolCreateSeconds: 180 });
  assert.ok(r.engine.armReadsPerOperation <= 12, JSON.stringify(r));
  assert.ok(r.engine.detectionLagSeconds <= 15, JSON.stringify(r));
  assert.ok(r.sdkDefaultPolling.armReadsPerOperation > r.engine.armReadsPerOperation * 3, JSON.stringify(r));
});

test("a pool that finishes in a third of its typical time is noticed early: ≤ 60 s after endTime (a third of the 180 s it took before), ≤ 4 ARM reads", async () => {
  const r = await measurePoolCreation({ timeScale: 0.005, poolCreateSeconds: 60 });
  assert.ok(r.engine.detectionLagSeconds <= 60, JSON.stringify(r));
  assert.ok(r.engine.armReadsPerOperation <= 4, JSON.stringify(r));
});
