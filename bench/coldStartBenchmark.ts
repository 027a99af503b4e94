/**
 * Cold start, each sample in a fresh `node` process on the built app
 * (`dist/`, as Azure Functions loads it):
 * - importing every function module (`dist/functions/*.js`, with the
 *   Functions core shim installed) vs importing `@azure/functions` alone;
 * - time from process start to the first 200 on `whoami` (the `npm start`
 *   entry point against an Azurite and simulated Azure already running, as
 *   on a scale-out where storage and Azure are there before the instance).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../src/packageRoot.js";
import { startAzurite } from "../src/localhost/azuriteProcess.js";
import { startSimulatedAzure } from "../src/emulators/simulatedAzure.js";
import { LocalTokenIssuer } from "../src/localhost/localTokenIssuer.js";
import { ratio, summarize, type LatencySummary } from "./latencyStats.js";

export interface ColdStartBenchmark {
  target: number;
  importRatio: number;
  appImport: LatencySummary & { what: string };
  floor: LatencySummary & { what: string };
  firstWhoami: LatencySummary & { what: string };
}

const root = packageRoot();

/** Runs `script` (ESM) in a fresh node process; it prints the milliseconds it measured. */
function runNode(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) =>
      code === 0
        ? resolve(Number(out.trim().split("\n").pop()))
        : reject(new Error(`import probe exited ${code}: ${out}`)),
    );
  });
}

const distUrl = (path: string): string => pathToFileURL(join(root, "dist", path)).href;

const APP_IMPORT = `
const { installFunctionsCore } = await import(${JSON.stringify(distUrl("src/localhost/functionsCoreShim.js"))});
installFunctionsCore();
const { readdirSync } = await import("node:fs");
const dir = ${JSON.stringify(join(root, "dist", "functions"))};
const files = readdirSync(dir).filter((f) => f.endsWith(".js")).sort();
const start = performance.now();
for (const f of files) await import(${JSON.stringify(distUrl("functions/"))} + f);
console.log(performance.now() - start);`;

const FLOOR_IMPORT = `
const start = performance.now();
await import("@azure/functions");
console.log(performance.now() - start);`;

async function firstWhoami(env: Record<string, string>, token: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, "dist", "src", "localhost", "start.js")], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const api = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`host not ready:\n${out}`)), 60_000);
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const line = out.split("\n").find((l) => l.startsWith('{"api"'));
        if (line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { api: string }).api);
        }
      });
      child.once("exit", (code) => reject(new Error(`host exited ${code}:\n${out}`)));
    });
    const res = await fetch(`${api}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`whoami answered ${res.status}: ${await res.text()}`);
    return performance.now() - started;
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

/** Needs `npm run build` first (runBenchmarks does it). */
export async function measureColdStart(options: { samples?: number } = {}): Promise<ColdStartBenchmark> {
  const samples = options.samples ?? 7;
  const app: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < samples; i++) {
    floor.push(await runNode(FLOOR_IMPORT));
    app.push(await runNode(APP_IMPORT));
  }
  const dataDir = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-bench-"));
  const [azurite, azure] = await Promise.all([startAzurite(), startSimulatedAzure({ dataDir, timeScale: 0.01 })]);
  const whoami: number[] = [];
  try {
    const token = await (await LocalTokenIssuer.open(dataDir)).mint({ team: "alpha", roles: ["Sandbox.Reader"] });
    const env = {
      PORT: "0",
      SANDBOX_DATA_DIR: dataDir,
      SANDBOX_SIMULATE: "true",
      SANDBOX_TABLES_CONNECTION: azurite.connectionString,
      ARM_ENDPOINT: azure.armUrl,
      SANDBOX_SIMULATED_CA_CERT: azure.caCertPath,
      LOCALHOST_DISABLE_TIMERS: "true",
    };
    for (let i = 0; i < Math.max(3, Math.ceil(samples / 2)); i++) whoami.push(await firstWhoami(env, token));
  } finally {
    await Promise.all([azurite.stop(), azure.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const appSummary = summarize(app);
  const floorSummary = summarize(floor);
  return {
    target: 2,
    importRatio: ratio(appSummary.p50Ms, floorSummary.p50Ms),
    appImport: { what: "import of every dist/functions/*.js (fresh process, p50 of samples)", ...appSummary },
    floor: { what: "import of @azure/functions alone (fresh process)", ...floorSummary },
    firstWhoami: {
      what: "process start of dist/src/localhost/start.js to the first 200 on whoami (Azurite, simulated Azure already up)",
      ...summarize(whoami),
    },
  };
}
