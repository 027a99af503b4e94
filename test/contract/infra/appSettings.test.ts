// No Bicep compiler is reachable here, so infra/ is cross-checked at text level against the configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONFIGURATION_SETTINGS,
  loadConfiguration,
  REQUIRED_OUTSIDE_SIMULATION,
} from "../../../src/config/configuration.js";
import { simulatedPolicyFile } from "../../../src/config/simulatedPolicy.js";
import { packageRoot } from "../../../src/packageRoot.js";

/** Settings read by the Functions platform or the Azure SDK rather than by src/config. */
const PLATFORM_SETTINGS = new Map([
  ["APPLICATIONINSIGHTS_CONNECTION_STRING", "the Functions host (Application Insights)"],
  ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "the Functions host (Entra auth to Application Insights)"],
  ["AZURE_CLIENT_ID", "@azure/identity: DefaultAzureCredential's user-assigned managed identity"],
]);

const bicep = readFileSync(join(packageRoot(), "infra", "app.bicep"), "utf8");
const appSettings = [...bicep.slice(bicep.indexOf("appSettings: [")).matchAll(/\{ name: '([^']+)', value: /g)].map(
  (m) => m[1]!,
);

test("infra sets only app settings the configuration (or the platform) knows", () => {
  assert.ok(appSettings.length >= 10, `found ${appSettings.length} app settings in infra/app.bicep`);
  const unknown = appSettings.filter((name) => !CONFIGURATION_SETTINGS.includes(name) && !PLATFORM_SETTINGS.has(name));
  assert.deepEqual(unknown, [], "app settings nothing reads");
  assert.equal(new Set(appSettings).size, appSettings.length, "no setting twice");
});

test("infra sets every setting the configuration requires outside simulation, identity-based and keyless", () => {
  for (const group of REQUIRED_OUTSIDE_SIMULATION)
    assert.ok(
      group.some((name) => appSettings.includes(name)),
      `one of ${group.join(", ")}`,
    );
  assert.ok(
    appSettings.includes("AzureWebJobsStorage__accountName") && !appSettings.includes("AzureWebJobsStorage"),
    "storage by identity, no connection string",
  );
  assert.match(bicep, /allowSharedKeyAccess: false/);
  assert.match(bicep, /SANDBOX_SIMULATE', value: 'false'/);
  assert.match(bicep, /runtime: \{ name: 'node', version: '22' \}/);
  assert.match(bicep, /tier: 'FlexConsumption'/);
});

test("the required list is the configuration's truth: one of each group loads, any group missing fails naming it", () => {
  const values: Record<string, string> = {
    AzureWebJobsStorage__accountName: "sandboxstate01",
    AUTH_ISSUER: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
    AUTH_AUDIENCE: "api://aks-pod-sandbox",
    AUTH_JWKS_URL: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/discovery/v2.0/keys",
    SANDBOX_POLICY_FILE: simulatedPolicyFile(),
  };
  const env = Object.fromEntries(
    REQUIRED_OUTSIDE_SIMULATION.map((group) => [
      group.find((n) => n in values)!,
      values[group.find((n) => n in values)!]!,
    ]),
  );
  assert.equal(Object.keys(env).length, REQUIRED_OUTSIDE_SIMULATION.length);
  loadConfiguration({ ...env, SANDBOX_SIMULATE: "false" });
  for (const name of Object.keys(env)) {
    const without: Record<string, string> = { ...env, SANDBOX_SIMULATE: "false" };
    delete without[name];
    assert.throws(
      () => loadConfiguration(without),
      (e: Error) => e.message.includes(name.split("__")[0]!),
      `${name} is required`,
    );
  }
});

test("every setting configuration.ts reads is in CONFIGURATION_SETTINGS", () => {
  const source = readFileSync(join(packageRoot(), "src", "config", "configuration.ts"), "utf8");
  const read = [...source.matchAll(/(?:get|bool|intSetting)\("([A-Za-z_]+)"/g)].map((m) => m[1]!);
  assert.ok(read.length > 15);
  assert.deepEqual(
    read.filter((name) => !CONFIGURATION_SETTINGS.includes(name)),
    [],
  );
});

test("infra sets WEBHOOK_SECRET_KEY from a secure parameter, never a literal", () => {
  assert.ok(appSettings.includes("WEBHOOK_SECRET_KEY"));
  assert.match(bicep, /\{ name: 'WEBHOOK_SECRET_KEY', value: webhookSecretKey \}/);
  assert.match(bicep, /@secure\(\)\n@description\([^\n]*\)\nparam webhookSecretKey string/);
});
