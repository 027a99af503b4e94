// test: end-to-end (host processes, one SIGKILLed)
// End to end through the local stack: a team's receiver gets the events of a
// sandbox pool creation and a job — CloudEvents, Standard Webhooks signatures,
// in order per subject, each exactly once after dedupe by webhook-id — even
// though the host that made the state changes is killed with SIGKILL before
// it delivered anything: a second host on the same tables delivers them.
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { odata, TableClient } from "@azure/data-tables";
import { Webhook } from "standardwebhooks";
import { startAzurite, type RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";
import { MASTER_KEY, poll, startSandboxStack, type SandboxStack } from "../../support/sandboxStack.js";
import { startWebhookReceiver, type TestWebhookReceiver } from "../../support/webhookReceiver.js";
import type { CloudEvent } from "../../../src/domain/events/cloudEvent.js";

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
// Delivery only when the test fires the timer (NCRONTAB: once a year, on 1 January at midnight).
const NEVER = "0 0 0 1 1 *";

describe("webhook events through the local stack, across a SIGKILL", () => {
  let azurite: RunningAzurite;
  let stack: SandboxStack;
  let second: AppHost | undefined;
  let receiver: TestWebhookReceiver;
  const secretKey = randomBytes(32).toString("base64");

  before(async () => {
    azurite = await startAzurite();
    receiver = await startWebhookReceiver();
    stack = await startSandboxStack({
      scale: 0.01,
      env: {
        SANDBOX_TABLES_CONNECTION: azurite.connectionString,
        WEBHOOK_SECRET_KEY: secretKey,
        WEBHOOK_DELIVERY_SCHEDULE: NEVER,
      },
    });
  });
  after(async () => {
    await second?.stop();
    await stack?.close();
    await receiver?.close();
    await azurite?.stop();
  });

  async function json(res: Response): Promise<Record<string, any>> {
    return (await res.json()) as Record<string, any>;
  }

  async function outboxCount(): Promise<number> {
    let n = 0;
    for (const [table, prefix, upper] of [
      ["operations", "e|", "e}"],
      ["sandboxjobs", "evt|", "evt}"],
    ] as const) {
      const client = TableClient.fromConnectionString(azurite.connectionString, table, {
        allowInsecureConnection: true,
      });
      for await (const _ of client.listEntities({
        queryOptions: { filter: odata`RowKey ge ${prefix} and RowKey lt ${upper}` },
      }))
        n++;
    }
    return n;
  }

  test(
    "pool creation and job events reach the team's receiver exactly once, in order, signed",
    { timeout: 240_000 },
    async () => {
      const operator = await stack.host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
      const reader = await stack.host.token({ team: "alpha", roles: ["Sandbox.Reader"] });

      // Subscriptions: refused targets answer 422; the secret is shown once.
      for (const url of ["https://169.254.169.254/metadata", "http://10.0.0.1/hook"]) {
        const refused = await stack.call("PUT", "/webhooks/bad", operator, { url });
        assert.equal(refused.status, 422, url);
        assert.equal((await json(refused)).error.code, "WebhookTargetNotAllowed");
      }
      assert.equal((await stack.call("PUT", "/webhooks/bot", reader, { url: receiver.url })).status, 403);
      const created = await stack.call("PUT", "/webhooks/bot", operator, {
        url: receiver.url,
        events: ["io.aks-pod-sandbox.operation.*", "io.aks-pod-sandbox.job.*"],
      });
      assert.equal(created.status, 201);
      const sub = await json(created);
      const secret = String(sub.secret);
      assert.match(secret, /^whsec_/);
      const read = await json(await stack.call("GET", "/webhooks/bot", reader));
      assert.equal(read.secret, undefined);
      assert.equal(read.url, receiver.url);
      assert.equal((await json(await stack.call("GET", "/webhooks", reader))).value.length, 1);
      // Another team's subscription never sees alpha's events.
      const betaOperator = await stack.host.token({ team: "beta", roles: ["Sandbox.Operator"] });
      const betaReceiver = await startWebhookReceiver();
      try {
        assert.equal((await stack.call("PUT", "/webhooks/bot", betaOperator, { url: betaReceiver.url })).status, 201);

        // The state changes: a sandbox pool and a job, on the first host.
        await stack.createCluster("rg-hooks", "hooks1");
        const cluster = stack.clusterPath("rg-hooks", "hooks1");
        const pool = await stack.call("PUT", `${cluster}/sandbox-pools/kata`, operator, {
          vmSize: "Standard_D4s_v3",
          nodeCount: 1,
        });
        assert.equal(pool.status, 202);
        const poolOp = String((await json(pool)).id);
        await poll(
          async () =>
            (await json(await stack.call("GET", `/operations/${poolOp}`, operator))).status === "Succeeded"
              ? true
              : undefined,
          "pool",
          90_000,
          100,
        );
        const job = await stack.call("POST", `${cluster}/jobs`, operator, {
          name: "build-42",
          image: IMAGE,
          command: ["uname", "-r"],
        });
        assert.equal(job.status, 201);
        await poll(
          async () =>
            (await json(await stack.call("GET", `${cluster}/jobs/build-42`, operator))).status === "Succeeded"
              ? true
              : undefined,
          "job",
          60_000,
          100,
        );

        // The events are in the outbox, nothing was delivered: kill the host now.
        assert.ok((await outboxCount()) >= 3, "events are in the outbox");
        assert.equal(receiver.received.length, 0);
        stack.host.child.kill("SIGKILL");
        await stack.host.stop();

        second = await startAppHost({
          env: {
            SANDBOX_SIMULATE: "true",
            ARM_ENDPOINT: stack.azure.armUrl,
            SANDBOX_SIMULATED_CA_CERT: stack.azure.caCertPath,
            SIM_TIME_SCALE: "0.01",
            LOCALHOST_MASTER_KEY: MASTER_KEY,
            SANDBOX_TABLES_CONNECTION: azurite.connectionString,
            WEBHOOK_SECRET_KEY: secretKey,
            WEBHOOK_DELIVERY_SCHEDULE: NEVER,
          },
        });
        const fire = async (): Promise<void> => {
          const res = await fetch(`${new URL(second!.api).origin}/admin/functions/deliverWebhooks`, {
            method: "POST",
            headers: { "x-functions-key": MASTER_KEY, "content-type": "application/json" },
            body: "{}",
          });
          assert.equal(res.status, 202);
        };
        await fire();
        await fire(); // a second pass finds nothing new to send
        assert.equal(await outboxCount(), 0);

        // Redelivery resends one with the same webhook-id: the receiver's dedupe drops it.
        const operator2 = await second.token({ team: "alpha", roles: ["Sandbox.Operator"] });
        const log = await json(await second.call("GET", "/webhooks/bot/deliveries", operator2));
        assert.ok(log.value.length >= 3);
        for (const d of log.value) assert.equal(d.status, "Delivered", JSON.stringify(d));
        const again = await second.call("POST", `/webhooks/bot/deliveries/${log.value[0].id}/redeliver`, operator2);
        assert.equal(again.status, 200);
        await fire();

        // Verify, dedupe by webhook-id, group by subject.
        const seen = new Map<string, CloudEvent>();
        for (const r of receiver.received) {
          const event = new Webhook(secret).verify(r.body, r.headers) as CloudEvent;
          assert.equal(r.headers["webhook-id"], event.id);
          assert.equal(event.specversion, "1.0");
          if (!seen.has(event.id)) seen.set(event.id, event);
        }
        assert.equal(receiver.received.length, seen.size + 1, "exactly one duplicate: the redelivery");
        const bySubject = new Map<string, string[]>();
        for (const r of receiver.received) {
          const e = JSON.parse(r.body) as CloudEvent;
          const list = bySubject.get(e.subject) ?? [];
          if (!list.includes(e.type)) list.push(e.type);
          bySubject.set(e.subject, list);
        }
        assert.deepEqual(bySubject.get(`operations/${poolOp}`), ["io.aks-pod-sandbox.operation.succeeded"]);
        assert.deepEqual(bySubject.get("jobs/build-42"), [
          "io.aks-pod-sandbox.job.started",
          "io.aks-pod-sandbox.job.succeeded",
        ]);
        const summaries = [...seen.values()].map((e) => e.data.summary);
        assert.ok(summaries.includes("Job build-42 succeeded on hooks1 (exit code 0)."), summaries.join("\n"));
        assert.ok(
          summaries.some((s) => s.startsWith("CreateSandboxPool kata succeeded")),
          summaries.join("\n"),
        );
        assert.equal(betaReceiver.received.length, 0, "beta's subscription got alpha's events");
      } finally {
        await betaReceiver.close();
      }
    },
  );
});
