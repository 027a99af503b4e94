/**
 * `npm start`: the local stack. Starts Azurite (tables), the simulated-Azure
 * emulators (simulated mode), a local token issuer (simulated mode), and the
 * local Functions host serving the app's registrations. Prints the base URL,
 * then — last, once ready — one JSON line naming every URL it started.
 * Ctrl-C (SIGINT) or SIGTERM stops everything it started and exits 0.
 */
import { join, resolve } from "node:path";
import { readFileSync } from "node:fs";
import { loadConfiguration, ConfigurationError } from "../config/configuration.js";
import { packageRoot } from "../packageRoot.js";
import { DEMO_SUBSCRIPTION_ID, simulatedPolicyFile } from "../config/simulatedPolicy.js";
import { startAzurite, type RunningAzurite } from "./azuriteProcess.js";
import { LocalFunctionsHost } from "./localFunctionsHost.js";
import { loadFunctionApp } from "./loadFunctionApp.js";
import { applyLocalSettings } from "./localSettings.js";
import { LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_JWKS_PATH, LocalTokenIssuer } from "./localTokenIssuer.js";
import { startSimulatedAzureForHost, type SimulatedAzureHandle } from "./simulatedAzureHook.js";

const env = process.env;
const root = packageRoot();
const stoppers: (() => Promise<void>)[] = [];

async function stopAll(): Promise<void> {
  for (const stop of stoppers.reverse()) {
    try {
      await stop();
    } catch (error) {
      console.error(`stop failed: ${(error as Error).message}`);
    }
  }
}

async function main(): Promise<void> {
  applyLocalSettings(join(process.cwd(), "local.settings.json"), env);
  // Simulated Azure is the default only when nothing points at real Azure.
  if (env.SANDBOX_SIMULATE === undefined && env.AUTH_ISSUER === undefined) env.SANDBOX_SIMULATE = "true";
  const simulate = /^(true|1|yes)$/i.test(env.SANDBOX_SIMULATE ?? "");
  const dataDir = resolve(root, env.SANDBOX_DATA_DIR ?? ".data");
  env.SANDBOX_DATA_DIR = dataDir;
  const ready: Record<string, string> = {};
  Object.assign(ready, attachToEmulators(env));

  let azurite: RunningAzurite | undefined;
  const tables = env.SANDBOX_TABLES_CONNECTION ?? env.AzureWebJobsStorage;
  if (tables === undefined || tables === "UseDevelopmentStorage=true") {
    azurite = await startAzurite({
      ...(env.AZURITE_TABLE_PORT ? { port: Number(env.AZURITE_TABLE_PORT) } : {}),
      ...(env.AZURITE_IN_MEMORY === "true" ? {} : { location: join(dataDir, "azurite") }),
    });
    stoppers.push(() => azurite!.stop());
    env.SANDBOX_TABLES_CONNECTION = azurite.connectionString;
    ready.tables = azurite.tableEndpoint;
  }

  let simulated: SimulatedAzureHandle | undefined;
  // With ARM_ENDPOINT given (tests running their own emulators), use those.
  if (simulate && env.ARM_ENDPOINT === undefined) {
    simulated = await startSimulatedAzureForHost(dataDir, env);
    stoppers.push(() => simulated!.close());
    env.ARM_ENDPOINT = simulated.armUrl;
    env.SANDBOX_SIMULATED_CA_CERT ??= simulated.caCertPath;
    ready.arm = simulated.armUrl;
    if (simulated.kubernetesUrl) ready.kubernetes = simulated.kubernetesUrl;
    ready.caCertPath = simulated.caCertPath;
  }

  // Registration modules read no configuration at import time, so they may
  // load before the issuer URL (which needs the host's port) is known.
  const issuer = simulate ? await LocalTokenIssuer.open(dataDir) : undefined;
  const host = new LocalFunctionsHost({
    registry: await loadFunctionApp(),
    routePrefix: routePrefixFromHostJson(),
    port: env.PORT === undefined ? 7071 : Number(env.PORT),
    ...(env.LOCALHOST_MASTER_KEY ? { masterKey: env.LOCALHOST_MASTER_KEY } : {}),
    functionKeys: (env.LOCALHOST_FUNCTION_KEYS ?? "").split(",").filter(Boolean),
    enableTimers: env.LOCALHOST_DISABLE_TIMERS !== "true",
    logLevel: (["debug", "info", "warn", "error"] as const).find((l) => l === env.LOG_LEVEL?.toLowerCase()) ?? "info",
    localRoutes: issuer ? { [LOCAL_JWKS_PATH]: issuer.serveJwks } : {},
    // The API enforces SANDBOX_MAX_REQUEST_BODY_BYTES itself; the host's own guard must not be tighter.
    maxBodyBytes: Math.max(1024 * 1024, Number(env.SANDBOX_MAX_REQUEST_BODY_BYTES) || 0),
  });
  await host.listen();
  stoppers.push(() => host.close());
  if (issuer) {
    env.AUTH_ISSUER ??= LOCAL_ISSUER;
    env.AUTH_AUDIENCE ??= LOCAL_AUDIENCE;
    env.AUTH_JWKS_URL ??= `${host.url}${LOCAL_JWKS_PATH}`;
    ready.jwks = `${host.url}${LOCAL_JWKS_PATH}`;
  }
  if (simulate) {
    // The sample policy: teams alpha and beta on the demo subscription.
    env.SANDBOX_POLICY_FILE ??= simulatedPolicyFile();
    ready.subscriptionId = DEMO_SUBSCRIPTION_ID;
  }

  try {
    loadConfiguration(env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      console.error(error.message);
      await stopAll();
      process.exit(1);
    }
    throw error;
  }
  await host.start();
  console.log(`aks-pod-sandbox listening on ${host.url}/api/v1 (${simulate ? "simulated Azure" : "Azure"})`);
  console.log(JSON.stringify({ api: `${host.url}/api/v1`, docs: `${host.url}/api/v1/docs`, ...ready }));
}

/**
 * `SANDBOX_EMULATORS_FILE`: attach to simulated Azure (and Azurite) running in
 * their own process (`npm run emulators`, which writes that file) instead of
 * starting them here, so several hosts share them and each can be killed and
 * restarted alone. Settings given explicitly win over the file.
 */
function attachToEmulators(env: NodeJS.ProcessEnv): Record<string, string> {
  const file = env.SANDBOX_EMULATORS_FILE;
  if (file === undefined || file === "") return {};
  let line: { arm?: string; kubernetes?: string; caCertPath?: string; tables?: string; tablesConnection?: string };
  try {
    line = JSON.parse(readFileSync(resolve(file), "utf8")) as typeof line;
  } catch (error) {
    throw new Error(
      `SANDBOX_EMULATORS_FILE: cannot read ${file} (${(error as Error).message}); start \`npm run emulators\` first`,
    );
  }
  if (line.arm) env.ARM_ENDPOINT ??= line.arm;
  if (line.caCertPath) env.SANDBOX_SIMULATED_CA_CERT ??= line.caCertPath;
  if (line.tablesConnection && env.AzureWebJobsStorage === undefined)
    env.SANDBOX_TABLES_CONNECTION ??= line.tablesConnection;
  // The ready line names what the host uses (the connection string stays out of it).
  const named: Record<string, string> = {};
  for (const key of ["tables", "arm", "kubernetes", "caCertPath"] as const) if (line[key]) named[key] = line[key];
  return named;
}

function routePrefixFromHostJson(): string {
  const hostJson = JSON.parse(readFileSync(join(root, "host.json"), "utf8")) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return hostJson.extensions?.http?.routePrefix ?? "api";
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stopAll().then(() => {
      console.log(`aks-pod-sandbox stopped (${signal})`);
      process.exit(0);
    });
  });
}

main().catch(async (error: unknown) => {
  console.error(`start failed: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
});
