// The webhook pipeline on Azurite with a real local receiver and an injected
// clock: outbox rows written in the operation's transaction, fan-out,
// Standard Webhooks signatures, exponential backoff with jitter, 24 h
// dead-letter, 410 Gone disabling, rotation (two signatures), redelivery.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { odata, TableClient } from "@azure/data-tables";
import { Webhook } from "standardwebhooks";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";
import {
  OPERATION_OUTBOX_PREFIX,
  operationPartition,
  TableOperationStore,
} from "../../../../src/adapters/tables/operationTable.js";
import { TableEventOutbox } from "../../../../src/adapters/tables/outboxRows.js";
import { WebhookTable } from "../../../../src/adapters/tables/webhookTable.js";
import { AesSecretCipher } from "../../../../src/adapters/webhooks/aesSecretCipher.js";
import { DnsWebhookTargetGuard } from "../../../../src/adapters/webhooks/webhookTargetGuard.js";
import { HttpWebhookSender } from "../../../../src/adapters/webhooks/httpWebhookSender.js";
import { WebhookService } from "../../../../src/domain/webhooks/webhookService.js";
import { WebhookDispatcher } from "../../../../src/domain/webhooks/webhookDispatcher.js";
import { newOperationId, type OperationRecord } from "../../../../src/domain/operations/operation.js";
import type { Principal } from "../../../../src/domain/identity/principal.js";
import type { CloudEvent } from "../../../../src/domain/events/cloudEvent.js";
import { startWebhookReceiver, type TestWebhookReceiver } from "../../../support/webhookReceiver.js";

const ALPHA: Principal = { id: "u1", name: "alice", team: "alpha", roles: ["Sandbox.Operator"], appId: undefined };
const BETA: Principal = { id: "u2", name: "bob", team: "beta", roles: ["Sandbox.Operator"], appId: undefined };

function operation(team: string, now: number): OperationRecord {
  return {
    id: newOperationId(now),
    kind: "CreateSandboxPool",
    target: "/subscriptions/s1/resourceGroups/rg/clusters/c1/sandbox-pools/kata",
    subscriptionId: "s1",
    serialKey: undefined,
    team,
    createdBy: "alice",
    status: "Running",
    steps: [{ name: "CreateAgentPool", status: "Running" }],
    stepIndex: 0,
    stepState: {},
    input: {},
    data: {},
    nextPollAt: now,
    attempts: 0,
    armCalls: 1,
    ticks: 1,
    lastError: undefined,
    error: undefined,
    result: { name: "kata" },
    percentComplete: undefined,
    cancelRequested: false,
    holdsLease: false,
    claim: undefined,
    correlationId: randomUUID(),
    createdAt: now,
    lastUpdatedAt: now,
    endedAt: undefined,
    deadlineAt: now + 3600_000,
  };
}

describe("webhook dispatcher on Azurite", () => {
  let azurite: RunningAzurite;
  let receiver: TestWebhookReceiver;
  let opsClient: TableClient;
  let hooksClient: TableClient;
  let ops: TableOperationStore;
  let hooks: WebhookTable;
  let service: WebhookService;
  let dispatcher: WebhookDispatcher;
  let clock = Date.parse("2026-12-01T00:00:00Z");

  before(async () => {
    azurite = await startTestAzurite();
    receiver = await startWebhookReceiver();
    const suffix = randomUUID().replace(/-/g, "").slice(0, 12);
    opsClient = TableClient.fromConnectionString(azurite.connectionString, `ops${suffix}`, {
      allowInsecureConnection: true,
    });
    hooksClient = TableClient.fromConnectionString(azurite.connectionString, `hooks${suffix}`, {
      allowInsecureConnection: true,
    });
    ops = new TableOperationStore(opsClient);
    await ops.ensureTable();
    hooks = new WebhookTable(hooksClient);
    const cipher = new AesSecretCipher(randomBytes(32));
    const guard = new DnsWebhookTargetGuard({ simulate: true });
    service = new WebhookService({ store: hooks, cipher, guard, now: () => clock });
    dispatcher = new WebhookDispatcher({
      store: hooks,
      outbox: new TableEventOutbox([{ client: opsClient, prefix: OPERATION_OUTBOX_PREFIX }]),
      cipher,
      sender: new HttpWebhookSender({ guard, timeoutMs: 5000 }),
      now: () => clock,
      random: () => 0.5,
    });
  });
  after(async () => {
    await receiver?.close();
    await azurite?.stop();
  });

  async function succeed(team: string): Promise<OperationRecord> {
    const created = await ops.create(operation(team, clock));
    const done: OperationRecord = {
      ...created.record,
      status: "Succeeded",
      endedAt: clock,
      lastUpdatedAt: clock,
      steps: [{ name: "CreateAgentPool", status: "Succeeded" }],
    };
    await ops.update(done, created.etag);
    return done;
  }

  async function outboxRows(): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    for await (const row of opsClient.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`RowKey ge ${OPERATION_OUTBOX_PREFIX} and RowKey lt ${"e}"}` },
    }))
      rows.push(row);
    return rows;
  }

  test("an outbox over a table not created yet is empty (a delivery pass before any write must not fail)", async () => {
    const fresh = TableClient.fromConnectionString(
      azurite.connectionString,
      `nothing${randomUUID().replace(/-/g, "").slice(0, 12)}`,
      { allowInsecureConnection: true },
    );
    assert.deepEqual(await new TableEventOutbox([{ client: fresh, prefix: OPERATION_OUTBOX_PREFIX }]).list(10), []);
  });

  test("the terminal write puts one CloudEvent in the outbox, in the operation's partition; fan-out empties it", async () => {
    const before = (await outboxRows()).length;
    const created = await ops.create(operation("alpha", clock));
    assert.equal((await outboxRows()).length, before, "a running operation announces nothing");
    const done = { ...created.record, status: "Succeeded" as const, endedAt: clock };
    await ops.update(done, created.etag);
    const rows = await outboxRows();
    assert.equal(rows.length, before + 1);
    const row = rows.find((r) => String(r.rowKey).endsWith(`${done.id}.succeeded`))!;
    // The operation row's shard: one entity-group transaction commits the change and its event.
    assert.equal(row.partitionKey, operationPartition(done.subscriptionId));
    assert.ok(
      await opsClient.getEntity(operationPartition(done.subscriptionId), `o|${done.id}`),
      "next to the operation row",
    );
    const event = JSON.parse(String(row.event)) as CloudEvent;
    assert.equal(event.specversion, "1.0");
    assert.equal(event.type, "io.aks-pod-sandbox.operation.succeeded");
    assert.equal(event.subject, `operations/${done.id}`);
    assert.match(event.data.summary, /^CreateSandboxPool kata succeeded/);
    // Drain it so later tests start from an empty outbox (no subscription yet: fan-out drops it).
    await dispatcher.pass();
    assert.equal((await outboxRows()).length, 0);
  });

  test("500 five times then 200: delivered on the sixth attempt with exponential backoff, signed, same webhook-id", async () => {
    const created = await service.put(ALPHA, "bot", { url: receiver.url, events: ["io.aks-pod-sandbox.operation.*"] });
    assert.ok(created.created && created.secret?.startsWith("whsec_"));
    const secret = created.secret!;
    // Signatures are checked against the real time (5 min tolerance): start the injected clock at it.
    clock = Date.now();
    receiver.respond([500, 500, 500, 500, 500]);
    receiver.received.length = 0;
    const op = await succeed("alpha");
    await succeed("beta"); // another team's event: never delivered to alpha's subscription

    let report = await dispatcher.pass();
    assert.equal(report.fannedOut, 2);
    assert.equal(receiver.received.length, 1);
    const delays: number[] = [];
    for (let attempt = 2; attempt <= 6; attempt++) {
      const [delivery] = await hooks.listDeliveries("alpha", "bot", 10);
      assert.equal(delivery!.status, "Pending");
      delays.push(delivery!.nextAttemptAt - clock);
      // Not due yet: nothing is sent.
      clock = delivery!.nextAttemptAt - 1;
      await dispatcher.pass();
      assert.equal(receiver.received.length, attempt - 1);
      clock = delivery!.nextAttemptAt;
      report = await dispatcher.pass();
      assert.equal(receiver.received.length, attempt);
    }
    // base 5 s doubling, jitter in the upper half (random = 0.5 → 3/4 of the ceiling).
    assert.deepEqual(delays, [3750, 7500, 15000, 30000, 60000]);
    const [delivery] = await service.listDeliveries(ALPHA, "bot", 10);
    assert.equal(delivery!.status, "Delivered");
    assert.equal(delivery!.attempts, 6);
    assert.equal(delivery!.lastStatusCode, 200);
    assert.equal(delivery!.eventId, `${op.id}.succeeded`);
    assert.equal(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size, 1);
    for (const r of receiver.received) {
      const verified = new Webhook(secret).verify(r.body, r.headers) as CloudEvent;
      assert.equal(verified.id, `${op.id}.succeeded`);
      assert.equal(verified.data.resource && (verified.data.resource as { team?: string }).team, "alpha");
    }
    assert.equal((await hooks.listDeliveries("beta", "bot", 10)).length, 0);
  });

  test("a receiver that keeps failing is dead-lettered after 24 h; redeliver queues it again", async () => {
    receiver.respond([], 503);
    receiver.received.length = 0;
    await succeed("alpha");
    const start = clock;
    await dispatcher.pass();
    let [delivery] = await hooks.listDeliveries("alpha", "bot", 1);
    while (delivery!.status === "Pending") {
      clock = delivery!.nextAttemptAt;
      await dispatcher.pass();
      [delivery] = await hooks.listDeliveries("alpha", "bot", 1);
    }
    assert.equal(delivery!.status, "DeadLettered");
    assert.ok(
      clock - start <= 24 * 3600_000 && clock - start > 20 * 3600_000,
      `gave up after ${(clock - start) / 3600_000} h`,
    );
    assert.ok(delivery!.attempts > 10);
    assert.equal(delivery!.lastError, "HTTP 503");
    receiver.respond([], 200);
    const queued = await service.redeliver(ALPHA, "bot", delivery!.id);
    assert.equal(queued.status, "Pending");
    await dispatcher.pass();
    assert.equal((await hooks.getDelivery("alpha", "bot", delivery!.id))!.status, "Delivered");
  });

  test("rotation: during the grace period each delivery carries a signature per secret; both verify", async () => {
    const { secret: oldSecret } = await service.rotateSecret(ALPHA, "bot", 0);
    clock = Date.now() + 30 * 3600_000;
    const { secret: newSecret, view } = await service.rotateSecret(ALPHA, "bot", 3600);
    assert.ok(view.previousSecretExpiresAt);
    receiver.received.length = 0;
    await succeed("alpha");
    clock = Date.now();
    await dispatcher.pass();
    const [got] = receiver.received;
    assert.equal(got!.headers["webhook-signature"]!.split(" ").length, 2);
    new Webhook(oldSecret).verify(got!.body, got!.headers);
    new Webhook(newSecret).verify(got!.body, got!.headers);
  });

  test("410 Gone disables the subscription; later events are not sent", async () => {
    receiver.respond([410]);
    receiver.received.length = 0;
    await succeed("alpha");
    await dispatcher.pass();
    assert.equal(receiver.received.length, 1);
    const sub = await service.get(ALPHA, "bot");
    assert.equal(sub.enabled, false);
    assert.match(sub.disabledReason ?? "", /410 Gone/);
    const delivery = (await hooks.listDeliveries("alpha", "bot", 100)).find((d) => d.lastStatusCode === 410);
    assert.equal(delivery?.status, "DeadLettered");
    await succeed("alpha");
    clock += 3600_000;
    await dispatcher.pass();
    assert.equal(receiver.received.length, 1);
  });

  test("no webhook row holds a secret in clear; a sealed secret does not open for another subscription", async () => {
    const { secret } = await service.put(BETA, "other", { url: receiver.url });
    const rows: unknown[] = [];
    for await (const row of hooksClient.listEntities()) rows.push(row);
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(secret!.slice("whsec_".length)), "clear secret in a row");
    assert.ok(!text.includes("whsec_"));
  });
});
