import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AZURITE_DEVELOPMENT_CONNECTION,
  ConfigurationError,
  loadConfiguration,
} from "../../../src/config/configuration.js";
import { simulatedPolicyFile } from "../../../src/config/simulatedPolicy.js";

const valid = {
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
  AUTH_ISSUER: "https://login.microsoftonline.com/tenant/v2.0",
  AUTH_AUDIENCE: "api://aks-pod-sandbox",
  AUTH_JWKS_URL: "https://login.microsoftonline.com/tenant/discovery/v2.0/keys",
  SANDBOX_POLICY_FILE: simulatedPolicyFile(),
};

test("a valid environment yields a frozen configuration with defaults", () => {
  const config = loadConfiguration(valid);
  assert.equal(config.tablesConnectionString, AZURITE_DEVELOPMENT_CONNECTION);
  assert.equal(config.tablesAllowInsecure, true);
  assert.equal(config.armEndpoint, "https://management.azure.com");
  assert.equal(config.flavor, "preview");
  assert.equal(config.simulate, false);
  assert.equal(config.auth.teamClaim, "team");
  assert.deepEqual(config.auth.algorithms, ["RS256"]);
  assert.equal(config.auth.clockSkewSeconds, 300);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.auth));
  assert.throws(() => {
    (config as { flavor: string }).flavor = "ga";
  }, TypeError);
});

test("every problem is reported at once, each naming its setting", () => {
  try {
    loadConfiguration({
      SANDBOX_FLAVOR: "beta",
      ARM_ENDPOINT: "http://management.azure.com",
      AUTH_ALGORITHMS: "RS256,HS256,none",
      AUTH_CLOCK_SKEW_SECONDS: "900",
      SIM_TIME_SCALE: "0.01",
      LOG_LEVEL: "chatty",
      SANDBOX_SIMULATE: "maybe",
    });
    assert.fail("expected a ConfigurationError");
  } catch (error) {
    assert.ok(error instanceof ConfigurationError);
    const text = error.problems.join("\n");
    for (const setting of [
      "AzureWebJobsStorage",
      "SANDBOX_FLAVOR",
      "ARM_ENDPOINT",
      "AUTH_ISSUER",
      "AUTH_AUDIENCE",
      "AUTH_JWKS_URL",
      "AUTH_ALGORITHMS",
      "AUTH_CLOCK_SKEW_SECONDS",
      "SIM_TIME_SCALE",
      "LOG_LEVEL",
      "SANDBOX_SIMULATE",
    ]) {
      assert.match(text, new RegExp(`^${setting}`, "m"), `missing problem for ${setting}`);
    }
    assert.match(text, /"HS256" is not an allowed/);
    assert.match(text, /"none" is not an allowed/);
    assert.ok(error.problems.length >= 11);
  }
});

test("connection strings are never echoed in problems", () => {
  const secret = "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net";
  try {
    loadConfiguration({ ...valid, AzureWebJobsStorage: secret });
    assert.fail("expected a ConfigurationError");
  } catch (error) {
    assert.ok(error instanceof ConfigurationError);
    assert.doesNotMatch(error.message, /c2VjcmV0|AccountKey/);
  }
});

test("plain-http JWKS and tables only to loopback in simulated mode", () => {
  assert.throws(() => loadConfiguration({ ...valid, AUTH_JWKS_URL: "http://127.0.0.1:7071/keys" }), /AUTH_JWKS_URL/);
  const simulated = loadConfiguration({
    ...valid,
    SANDBOX_SIMULATE: "true",
    AUTH_JWKS_URL: "http://127.0.0.1:7071/keys",
    SIM_TIME_SCALE: "0.01",
  });
  assert.equal(simulated.simTimeScale, 0.01);
  assert.throws(
    () => loadConfiguration({ ...valid, SANDBOX_SIMULATE: "true", AUTH_JWKS_URL: "http://10.1.2.3/keys" }),
    /AUTH_JWKS_URL/,
  );
  assert.throws(
    () =>
      loadConfiguration({
        ...valid,
        AzureWebJobsStorage:
          "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;TableEndpoint=http://storage.example.com/a;",
      }),
    /only allowed to a loopback/,
  );
});

test("SANDBOX_TABLES_CONNECTION wins over AzureWebJobsStorage", () => {
  const other = AZURITE_DEVELOPMENT_CONNECTION.replace("10002", "12345");
  assert.equal(loadConfiguration({ ...valid, SANDBOX_TABLES_CONNECTION: other }).tablesConnectionString, other);
});

test("WEBHOOK_SECRET_KEY: optional (only webhooks need it), 32 bytes base64 when set, never echoed", () => {
  assert.equal(loadConfiguration(valid).webhooks.secretKey, undefined);
  const key = Buffer.alloc(32, 1).toString("base64");
  assert.equal(loadConfiguration({ ...valid, WEBHOOK_SECRET_KEY: key }).webhooks.secretKey, key);
  const short = Buffer.alloc(16, 9).toString("base64");
  assert.throws(
    () => loadConfiguration({ ...valid, WEBHOOK_SECRET_KEY: short }),
    (e: unknown) =>
      e instanceof ConfigurationError &&
      e.problems.some((p) => p.startsWith("WEBHOOK_SECRET_KEY: must be 32 bytes")) &&
      !e.message.includes(short),
  );
});

test("AUDIT_RETENTION_DAYS: 90 by default, 1–3650 days, anything else is a problem naming the setting", () => {
  assert.equal(loadConfiguration(valid).auditRetentionDays, 90);
  assert.equal(loadConfiguration({ ...valid, AUDIT_RETENTION_DAYS: "400" }).auditRetentionDays, 400);
  for (const bad of ["0", "3651", "7.5", "forever"])
    assert.throws(
      () => loadConfiguration({ ...valid, AUDIT_RETENTION_DAYS: bad }),
      (e: unknown) =>
        e instanceof ConfigurationError && /AUDIT_RETENTION_DAYS: must be an integer from 1 to 3650/.test(e.message),
    );
});
