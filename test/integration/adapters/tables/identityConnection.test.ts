// Identity-based Table Storage for real: Azurite over HTTPS with `--oauth basic`, a token from the
// managed-identity endpoint Azure Functions provides (App Service's IDENTITY_ENDPOINT protocol), no account key.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { UnsecuredJWT } from "jose";
import { loadConfiguration } from "../../../../src/config/configuration.js";
import { simulatedPolicyFile } from "../../../../src/config/simulatedPolicy.js";
import { probeTables, tablesConnection, tableClient } from "../../../../src/adapters/tables/tableClients.js";
import { AuditTable } from "../../../../src/adapters/tables/auditTable.js";
import { resolveAuditQuery } from "../../../../src/domain/policy/auditLog.js";
import { createTrustingHttpClient } from "../../../../src/adapters/arm/emulatorTrust.js";
import { loadOrCreateTlsMaterial } from "../../../../src/emulators/tlsMaterial.js";
import { startAzurite, type RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "5b0b8a55-0c5f-4c2a-9a0e-3d3f6b1f2e11";
const IDENTITY_HEADER = randomUUID();

describe("identity-based Table Storage (AzureWebJobsStorage__tableServiceUri, managed identity) on Azurite with OAuth", () => {
  let dir: string;
  let azurite: RunningAzurite;
  let identityEndpoint: Server;
  const tokenRequests: { resource: string | null; clientId: string | null }[] = [];
  let certPem: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-oauth-"));
    const tls = await loadOrCreateTlsMaterial(dir);
    certPem = tls.certPem;
    azurite = await startAzurite({
      tls: { certPath: tls.caCertPath, keyPath: join(dir, "emulator-key.pem") },
      oauth: "basic",
    });
    // The managed-identity endpoint of App Service / Functions: GET ?resource=&api-version=&client_id= with X-IDENTITY-HEADER.
    identityEndpoint = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.headers["x-identity-header"] !== IDENTITY_HEADER) {
        res.writeHead(401).end();
        return;
      }
      const resource = url.searchParams.get("resource");
      tokenRequests.push({ resource, clientId: url.searchParams.get("client_id") });
      const now = Math.floor(Date.now() / 1000);
      // Azurite's basic OAuth checks issuer, audience and lifetime (not the signature).
      const token = new UnsecuredJWT({ oid: randomUUID(), tid: TENANT, appid: CLIENT_ID })
        .setIssuer(`https://sts.windows.net/${TENANT}/`)
        .setAudience("https://storage.azure.com")
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 3600)
        .encode();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          access_token: token,
          expires_on: String(now + 3600),
          resource,
          token_type: "Bearer",
          client_id: CLIENT_ID,
        }),
      );
    });
    await new Promise<void>((resolve) => identityEndpoint.listen(0, "127.0.0.1", resolve));
    process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(identityEndpoint.address() as { port: number }).port}/msi/token`;
    process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  });
  after(async () => {
    await azurite?.stop();
    await new Promise<void>((resolve) => (identityEndpoint ? identityEndpoint.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const configuration = () =>
    loadConfiguration({
      AzureWebJobsStorage__tableServiceUri: azurite.tableEndpoint,
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: CLIENT_ID,
      AUTH_ISSUER: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      AUTH_AUDIENCE: "api://aks-pod-sandbox",
      AUTH_JWKS_URL: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      SANDBOX_POLICY_FILE: simulatedPolicyFile(),
    });

  test("Azurite refuses a request without a token: OAuth is really in force", async () => {
    const anonymous = new TableClient(azurite.tableEndpoint, "nokey", {
      httpClient: createTrustingHttpClient(certPem),
    });
    await assert.rejects(
      anonymous.createTable(),
      (error: { statusCode?: number }) => error.statusCode === 403 || error.statusCode === 401,
    );
  });

  test("the product's table adapters write and read with the managed identity's token, no account key", async () => {
    const config = configuration();
    assert.equal(config.tables.kind, "identity");
    assert.equal(config.tablesConnectionString, undefined);
    const connection = tablesConnection(config.tables, { httpClient: createTrustingHttpClient(certPem) });
    assert.ok(!("connectionString" in connection), "no connection string, so no key");

    await probeTables(connection, 10_000);
    const audit = new AuditTable(tableClient(connection, "auditoauth"));
    const record = {
      id: "r1",
      time: new Date().toISOString(),
      principalId: "oid-1",
      principalName: "Ada",
      appId: null,
      team: "alpha",
      action: "whoami",
      method: "GET",
      target: "/api/v1/whoami",
      status: 200,
      errorCode: null,
      requestId: "req-1",
      clientRequestId: null,
      operationId: null,
      source: null,
      count: 1,
    };
    await audit.append(record);
    const page = await audit.list(resolveAuditQuery({}, new Date(Date.now() + 60_000)));
    assert.deepEqual(
      page.records.map((r) => r.id),
      ["r1"],
    );

    assert.ok(tokenRequests.length >= 1, "a token came from the managed-identity endpoint");
    assert.ok(
      tokenRequests.every((r) => r.resource?.startsWith("https://storage.azure.com")),
      JSON.stringify(tokenRequests),
    );
    assert.ok(
      tokenRequests.every((r) => r.clientId === CLIENT_ID),
      "the user-assigned identity __clientId names",
    );
  });

  test("AzureWebJobsStorage__accountName maps to the account's table endpoint", () => {
    const config = loadConfiguration({
      AzureWebJobsStorage__accountName: "sandboxstate01",
      AUTH_ISSUER: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      AUTH_AUDIENCE: "api://aks-pod-sandbox",
      AUTH_JWKS_URL: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      SANDBOX_POLICY_FILE: simulatedPolicyFile(),
    });
    assert.deepEqual(config.tables, {
      kind: "identity",
      tableServiceUri: "https://sandboxstate01.table.core.windows.net",
      credential: "default",
      clientId: undefined,
    });
  });
});
