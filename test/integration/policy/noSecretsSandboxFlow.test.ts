// test: end-to-end (a host process's own output)
// The full sandbox flow with LOG_LEVEL=debug — cluster, sandbox pool, jobs,
// logs, isolation check, cancel, bad input — and then every place a secret
// could leak: host output, every row of every table, every API response.
// Kubeconfigs (and the clusters' bearer tokens inside them) are fetched from
// ARM by the app on every cluster call here, so they are the secret to watch.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient, TableServiceClient } from "@azure/data-tables";
import { startAzurite, type RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { randomBytes } from "node:crypto";
import { MASTER_KEY, poll, startSandboxStack, type SandboxStack } from "../../support/sandboxStack.js";
import { startWebhookReceiver, type TestWebhookReceiver } from "../../support/webhookReceiver.js";

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const PATTERNS: readonly [string, RegExp][] = [
  ["JWT", /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/],
  ["bearer token", /Bearer\s+[A-Za-z0-9\-_.]{20,}/i],
  ["account key", /AccountKey=/i],
  ["connection string", /DefaultEndpointsProtocol=|TableEndpoint=/i],
  ["kubeconfig", /certificate-authority-data|client-key-data|client-certificate-data|kind:\s*Config\b|current-context/],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["webhook secret", /whsec_/],
];

describe("no secrets in a full sandbox flow", () => {
  let azurite: RunningAzurite;
  let stack: SandboxStack;
  let receiver: TestWebhookReceiver;
  const responses: string[] = [];
  /** The webhook secrets the API returned (once each: create and rotate responses, kept out of `responses`). */
  const webhookSecrets: string[] = [];
  const webhookKey = randomBytes(32).toString("base64");

  before(async () => {
    azurite = await startAzurite();
    receiver = await startWebhookReceiver();
    stack = await startSandboxStack({
      scale: 0.01,
      env: { SANDBOX_TABLES_CONNECTION: azurite.connectionString, LOG_LEVEL: "debug", WEBHOOK_SECRET_KEY: webhookKey },
    });
  });
  after(async () => {
    await stack?.close();
    await receiver?.close();
    await azurite?.stop();
  });

  async function call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    const res = await stack.call(method, path, token, body);
    const text = await res.text();
    responses.push(
      `${method} ${path} → ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${text}`,
    );
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // text/plain logs
    }
    return { status: res.status, body: parsed, text };
  }

  async function operationDone(id: string, token: string): Promise<Record<string, unknown>> {
    return poll(
      async () => {
        const op = await call("GET", `/operations/${id}`, token);
        return ["Succeeded", "Failed", "Canceled"].includes(String(op.body.status)) ? op.body : undefined;
      },
      `operation ${id}`,
      60_000,
      100,
    );
  }

  test("the flow", { timeout: 180_000 }, async () => {
    const operator = await stack.host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
    const submitter = await stack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    const cluster = stack.clusterPath("rg-secrets", "secrets1");

    // A webhook for the team's events: its secret is shown in the create and rotate responses only.
    const hook = await stack.call("PUT", "/webhooks/bot", operator, { url: receiver.url });
    assert.equal(hook.status, 201);
    webhookSecrets.push(String(((await hook.json()) as { secret: string }).secret));
    const rotated = await stack.call("POST", "/webhooks/bot/rotate-secret", operator);
    assert.equal(rotated.status, 200);
    webhookSecrets.push(String(((await rotated.json()) as { secret: string }).secret));
    assert.equal((await call("GET", "/webhooks/bot", operator)).body.secret, undefined);

    const created = await call("PUT", cluster, operator, { location: "eastus" });
    assert.equal(created.status, 202, created.text);
    assert.equal((await operationDone(String(created.body.id), operator)).status, "Succeeded");
    const pool = await call("PUT", `${cluster}/sandbox-pools/kata`, operator, {
      vmSize: "Standard_D4s_v3",
      nodeCount: 1,
    });
    assert.equal(pool.status, 202, pool.text);
    assert.equal((await operationDone(String(pool.body.id), operator)).status, "Succeeded");

    const job = await call("POST", `${cluster}/jobs`, submitter, {
      name: "dots",
      image: IMAGE,
      command: ["/bin/sh", "-ec"],
      args: ["while :; do echo '.'; sleep 5 ; done"],
      env: { GREETING: "hello" },
    });
    assert.equal(job.status, 201, job.text);
    await poll(
      async () => ((await call("GET", `${cluster}/jobs/dots`, submitter)).body.status === "Running" ? true : undefined),
      "job running",
      30_000,
      100,
    );
    await poll(
      async () => ((await call("GET", `${cluster}/jobs/dots/logs`, submitter)).text.includes(".") ? true : undefined),
      "dots in the log",
      30_000,
      100,
    );
    assert.equal((await call("DELETE", `${cluster}/jobs/dots`, submitter)).status < 300, true);

    const check = await call("POST", `${cluster}/isolation-checks`, submitter);
    assert.equal(check.status, 202, check.text);
    const done = await operationDone(String(check.body.id), submitter);
    assert.equal((done.result as { isolated?: boolean } | undefined)?.isolated, true, JSON.stringify(done));

    // Bad input and denials produce error bodies too.
    assert.equal((await call("POST", `${cluster}/jobs`, submitter, { image: "bad image ref" })).status, 400);
    assert.equal((await call("POST", `${cluster}/jobs`, submitter, { image: IMAGE, hostNetwork: true })).status, 422);
    assert.equal(
      (
        await call(
          "GET",
          stack.clusterPath("rg-secrets", "other-teams-cluster"),
          await stack.host.token({ team: "beta", roles: ["Sandbox.Reader"] }),
        )
      ).status,
      404,
    );
    // Deliver what the flow announced (the timer may have done so already).
    const fired = await fetch(`${new URL(stack.host.api).origin}/admin/functions/deliverWebhooks`, {
      method: "POST",
      headers: { "x-functions-key": MASTER_KEY },
    });
    assert.equal(fired.status, 202);
    assert.ok(receiver.received.length >= 3, `deliveries: ${receiver.received.length}`);
    await call("GET", "/webhooks/bot/deliveries", operator);
    await new Promise((r) => setTimeout(r, 300));
  });

  test("no cluster token, kubeconfig, JWT or key anywhere", async () => {
    const clusterTokens = [...stack.azure.cloud.clusters.values()].map((c) => c.bearerToken);
    assert.ok(clusterTokens.length >= 1, "the flow used a cluster");
    const caData = Buffer.from(stack.azure.caCertPem).toString("base64").slice(0, 60);
    const accountKey = /AccountKey=([^;]+)/.exec(azurite.connectionString)![1]!;

    const rows: string[] = [];
    const service = TableServiceClient.fromConnectionString(azurite.connectionString, {
      allowInsecureConnection: true,
    });
    for await (const table of service.listTables()) {
      const client = TableClient.fromConnectionString(azurite.connectionString, table.name!, {
        allowInsecureConnection: true,
      });
      for await (const entity of client.listEntities()) rows.push(JSON.stringify(entity));
    }
    assert.ok(
      rows.some((r) => r.includes("dots")),
      "job rows were written",
    );
    const places: [string, string][] = [
      ["host output", stack.host.output()],
      ["table rows", rows.join("\n")],
      ["responses", responses.join("\n")],
      ["webhook deliveries", receiver.received.map((r) => `${JSON.stringify(r.headers)}\n${r.body}`).join("\n")],
    ];
    for (const [where, text] of places) {
      for (const token of clusterTokens) assert.ok(!text.includes(token), `${where} contains a cluster bearer token`);
      assert.ok(!text.includes(caData), `${where} contains kubeconfig certificate data`);
      assert.ok(!text.includes(accountKey), `${where} contains the storage account key`);
      for (const [name, pattern] of PATTERNS) assert.doesNotMatch(text, pattern, `${where} contains a ${name}`);
      for (const secret of webhookSecrets) {
        assert.ok(
          !text.includes(secret.slice("whsec_".length, "whsec_".length + 24)),
          `${where} contains a webhook secret`,
        );
      }
      assert.ok(!text.includes(webhookKey), `${where} contains the webhook sealing key`);
    }
    assert.match(stack.host.output(), /"level":"debug"|"msg":"request"/);
    assert.ok(webhookSecrets.length === 2 && webhookSecrets.every((s) => s.startsWith("whsec_")));
    // One JSON object per log line, never JSON inside a JSON string.
    assert.doesNotMatch(stack.host.output(), /"msg":"\{/);
  });
});
