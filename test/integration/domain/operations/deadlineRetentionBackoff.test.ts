// The engine's time limits against a real operations table (Azurite), with an
// injected clock: a kind's deadline ends an operation OperationTimedOut;
// terminal operations are purged only after the retention period; transient
// failures back off exponentially up to the cap and never fail the operation.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";
import { TableOperationStore } from "../../../../src/adapters/tables/operationTable.js";
import { OperationEngine, type SubmitRequest } from "../../../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../../../src/domain/operations/operationKinds.js";
import { actionStep, waitForStep } from "../../../../src/domain/operations/steps.js";
import type { ArmOperations } from "../../../../src/domain/operations/armOperations.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";

const DAY = 86_400_000;
// These kinds make no ARM call; the engine must not need the port.
const noArm = {} as ArmOperations;

describe("operation deadlines, retention and transient backoff", () => {
  let azurite: RunningAzurite;
  let clock = Date.parse("2026-01-01T00:00:00Z");
  let flaky = 0;

  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  function setup(): { store: TableOperationStore; engine: OperationEngine } {
    const store = new TableOperationStore(
      { connectionString: azurite.connectionString, allowInsecure: true },
      `ops${randomUUID().replace(/-/g, "").slice(0, 16)}`,
    );
    const kinds = new OperationKindRegistry([
      // Never finishes: only the deadline ends it.
      {
        kind: "RegisterSandboxFeature",
        deadlineSeconds: 3600,
        steps: [waitForStep({ name: "WaitForever", intervalSeconds: 60, check: async () => ({ done: false }) })],
      },
      // Finishes at once.
      {
        kind: "EnableSandboxing",
        deadlineSeconds: 3600,
        steps: [actionStep("Done", async () => ({ result: { ok: true } }))],
      },
      // Fails transiently every time.
      {
        kind: "IsolationCheck",
        deadlineSeconds: 30 * 86_400,
        steps: [
          actionStep("Flaky", async () => {
            flaky += 1;
            throw new SandboxError("UpstreamUnavailable", "Azure did not answer (HTTP 503); retry later.");
          }),
        ],
      },
    ]);
    const engine = new OperationEngine({
      store,
      arm: noArm,
      kinds,
      now: () => clock,
      random: () => 0.999,
      settings: { scale: 1, retentionDays: 30, backoffBaseSeconds: 5, backoffMaxSeconds: 300 },
    });
    return { store, engine };
  }

  const request = (kind: SubmitRequest["kind"]): SubmitRequest => ({
    kind,
    target: "/subscriptions/s/x",
    subscriptionId: "s",
    input: {},
    createdBy: "tester",
    team: "alpha",
    correlationId: randomUUID(),
  });

  test("past its kind's deadline an operation ends Failed with OperationTimedOut", async () => {
    const { store, engine } = setup();
    const op = await engine.submit(request("RegisterSandboxFeature"));
    assert.equal(op.status, "Running");
    clock += 30 * 60_000;
    await engine.reconcile({ passMs: 1 });
    assert.equal((await store.get(op.id))!.record.status, "Running", "still inside its deadline");
    clock += 31 * 60_000;
    await engine.reconcile({ passMs: 1 });
    const ended = (await store.get(op.id))!.record;
    assert.equal(ended.status, "Failed");
    assert.equal(ended.error?.code, "OperationTimedOut");
    assert.match(ended.error?.message ?? "", /deadline \(3600 s\)/);
  });

  test("terminal operations are kept for the retention period, then purged; active ones never", async () => {
    const { store, engine } = setup();
    const done = await engine.submit(request("EnableSandboxing"));
    assert.equal(done.status, "Succeeded");
    const running = await engine.submit(request("RegisterSandboxFeature"));
    clock += 29 * DAY;
    assert.equal((await engine.reconcile({ passMs: 1 })).purged, 0);
    assert.ok(await store.get(done.id), "kept within 30 days");
    clock += 2 * DAY;
    const report = await engine.reconcile({ passMs: 1 });
    assert.equal(report.purged, 1);
    assert.equal(await store.get(done.id), undefined, "purged after 30 days");
    assert.ok(await store.get(running.id), "an operation that was active is never purged by retention");
  });

  test("transient failures back off exponentially, capped, and keep the operation running", async () => {
    const { store, engine } = setup();
    flaky = 0;
    const op = await engine.submit(request("IsolationCheck"));
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const current = (await store.get(op.id))!.record;
      assert.equal(current.status, "Running");
      waits.push(current.nextPollAt - clock);
      clock = current.nextPollAt;
      await engine.reconcile({ passMs: 1 });
    }
    const final = (await store.get(op.id))!.record;
    assert.equal(final.status, "Running");
    assert.ok(final.attempts >= 9, `attempts ${final.attempts}`);
    assert.match(final.lastError?.message ?? "", /HTTP 503/);
    assert.ok(flaky >= 9);
    assert.ok(waits[1]! < waits[4]!, `grows: ${waits.join(", ")}`);
    assert.ok(
      waits.every((w) => w <= 300_000 + 10),
      `capped at 300 s: ${waits.join(", ")}`,
    );
    assert.ok(
      waits.slice(-2).every((w) => w >= 150_000),
      `reaches the cap: ${waits.join(", ")}`,
    );
  });
});
