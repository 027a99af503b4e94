// test: end-to-end (a host process's own output)
// A flow with LOG_LEVEL=debug through the local stack: no token, key,
// kubeconfig or connection string may appear in host output, table rows
// (every table of the account, read through the Tables SDK), audit rows or
// error bodies.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableServiceClient, TableClient } from "@azure/data-tables";
import { startAzurite, type RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";

const SECRET_PATTERNS: readonly [string, RegExp][] = [
  ["JWT", /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/],
  ["bearer token", /Bearer\s+[A-Za-z0-9\-_]{20,}/i],
  ["account key", /AccountKey=/i],
  ["SAS", /SharedAccessSignature|[?&]sig=/i],
  ["connection string", /DefaultEndpointsProtocol=|TableEndpoint=|EndpointSuffix=/i],
  ["kubeconfig", /client-key-data|client-certificate-data|kind:\s*Config\b|"kind"\s*:\s*"Config"/],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----|"d"\s*:\s*"[A-Za-z0-9_-]{40,}"/],
];

describe("no secrets anywhere", () => {
  let azurite: RunningAzurite;
  let host: AppHost;
  const seen: string[] = [];
  const tokens: string[] = [];

  before(async () => {
    azurite = await startAzurite();
    host = await startAppHost({ env: { SANDBOX_TABLES_CONNECTION: azurite.connectionString, LOG_LEVEL: "debug" } });
  });
  after(async () => {
    await host?.stop();
    await azurite?.stop();
  });

  async function call(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    const res = await fetch(`${host.api}${path}`, { ...init, headers });
    const text = await res.text();
    // Everything the API answers is inspected: headers and bodies.
    seen.push(
      `${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${path.startsWith("/openapi") || path.startsWith("/docs") ? "" : text}`,
    );
    return new Response(text, { status: res.status, headers: res.headers });
  }

  test("the flow: allowed, denied, invalid and bot requests", async () => {
    const alpha = await host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    const bot = await host.token({
      roles: ["Sandbox.Operator"],
      appId: "55555555-0000-0000-0000-000000000005",
      name: "55555555-0000-0000-0000-000000000005",
      team: "beta",
    });
    const admin = await host.token({ roles: ["Sandbox.Admin"] });
    const wrongAudience = await host.token({ team: "alpha", roles: ["Sandbox.Admin"], audience: "api://someone-else" });
    const expired = await host.token({ team: "alpha", roles: ["Sandbox.Admin"], expiresInSeconds: -3600 });
    tokens.push(alpha, bot, admin, wrongAudience, expired);
    const forged = `${alpha.split(".").slice(0, 2).join(".")}.c2lnbmF0dXJl`;
    tokens.push(forged);

    assert.equal((await call("/whoami", { token: alpha })).status, 200);
    assert.equal((await call("/whoami", { token: bot })).status, 200);
    assert.equal((await call("/whoami", { token: wrongAudience })).status, 401);
    assert.equal((await call("/whoami", { token: expired })).status, 401);
    assert.equal((await call("/whoami", { token: forged })).status, 401);
    assert.equal(
      (
        await call("/whoami", {
          headers: { authorization: `Basic ${Buffer.from("user:pa55word").toString("base64")}` },
        })
      ).status,
      401,
    );
    assert.equal((await call("/audit", { token: alpha })).status, 403);
    assert.equal((await call("/audit", { token: bot })).status, 403);
    assert.equal((await call("/audit?from=yesterday", { token: admin })).status, 400);
    assert.equal((await call("/whoami", { method: "POST", token: alpha, body: "{}" })).status, 405);
    assert.equal((await call("/readyz")).status, 200);
    const audit = await call("/audit?top=1000", { token: admin });
    assert.equal(audit.status, 200);
    // The first 401 of this source and minute is written at once, the other three are counted into one record
    // when the minute ends; the two 403s each have their own (reads refused by validation are not audited).
    const records = ((await audit.json()) as { value: unknown[] }).value;
    assert.ok(records.length >= 3, `denials were audited: ${JSON.stringify(records)}`);
    await new Promise((r) => setTimeout(r, 200));
  });

  test("host output, every table row and every response are free of secrets", async () => {
    const service = TableServiceClient.fromConnectionString(azurite.connectionString, {
      allowInsecureConnection: true,
    });
    const rows: string[] = [];
    const tables: string[] = [];
    for await (const table of service.listTables()) {
      tables.push(table.name!);
      const client = TableClient.fromConnectionString(azurite.connectionString, table.name!, {
        allowInsecureConnection: true,
      });
      for await (const entity of client.listEntities()) rows.push(JSON.stringify(entity));
    }
    assert.ok(tables.includes("sandboxaudit"), `tables: ${tables.join(", ")}`);
    assert.ok(rows.length >= 3, `${rows.length} rows`);
    const accountKey = /AccountKey=([^;]+)/.exec(azurite.connectionString)![1]!;
    const places: [string, string][] = [
      ["host output", host.output()],
      ["table rows", rows.join("\n")],
      ["responses", seen.join("\n")],
    ];
    for (const [where, text] of places) {
      for (const token of tokens)
        assert.ok(!text.includes(token) && !text.includes(token.split(".")[2]!), `${where} contains a token`);
      assert.ok(!text.includes(accountKey), `${where} contains the storage account key`);
      assert.ok(
        !text.includes("pa55word") && !text.includes(Buffer.from("user:pa55word").toString("base64")),
        `${where} contains basic credentials`,
      );
      for (const [name, pattern] of SECRET_PATTERNS) assert.doesNotMatch(text, pattern, `${where} contains a ${name}`);
    }
    assert.match(host.output(), /"msg":"request"/, "the host did log the requests");
  });
});
