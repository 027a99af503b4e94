/**
 * `npm run demo [-- <api base URL>]`: walks the Pod Sandboxing seed scenario
 * through the REST API of a running `npm start` (simulated Azure):
 *
 *  1. register the preview feature on the demo subscription,
 *  2. create a cluster and add a sandbox pool,
 *  3. run a trusted and an untrusted job (`uname -r`) and show both kernels,
 *  4. run the isolation check and print its verdict,
 *  5. clean up (jobs, pool, cluster).
 *
 * Base URL: the first argument, else SANDBOX_API_URL, else
 * http://127.0.0.1:7071/api/v1. Tokens come from the local issuer in
 * `.data/` (SANDBOX_DATA_DIR), shared with `npm start`. Exits 1 at the first
 * failing step. Tip: `SIM_TIME_SCALE=0.01 npm start` makes Azure's minutes
 * take seconds.
 */
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_SUBSCRIPTION_ID } from "../src/config/simulatedPolicy.js";
import { LocalTokenIssuer } from "../src/localhost/localTokenIssuer.js";
import { packageRoot } from "../src/packageRoot.js";

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- the demo prints API JSON as it comes; openapi/openapi.json types it */

const base = (process.argv[2] ?? process.env.SANDBOX_API_URL ?? "http://127.0.0.1:7071/api/v1").replace(/\/+$/, "");
const origin = new URL(base).origin;
const sub = process.env.DEMO_SUBSCRIPTION_ID ?? DEMO_SUBSCRIPTION_ID;
const rg = process.env.DEMO_RESOURCE_GROUP ?? "rg-pod-sandbox-demo";
const clusterName = process.env.DEMO_CLUSTER ?? `demo-${Date.now().toString(36)}`;
const cluster = `/subscriptions/${sub}/resourceGroups/${rg}/clusters/${clusterName}`;
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
/** Wall-clock limit of one long-running step (simulated Azure at scale 1 takes minutes). */
const STEP_TIMEOUT_MS = Number(process.env.DEMO_STEP_TIMEOUT_SECONDS ?? 3600) * 1000;

class StepFailed extends Error {}

let stepNumber = 0;
function step(title: string): void {
  stepNumber += 1;
  console.log(`\n[${stepNumber}] ${title}`);
}
const info = (text: string): void => console.log(`    ${text}`);

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const url = path.startsWith("http") ? path : path.startsWith("/api/") ? `${origin}${path}` : `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new StepFailed(`${method} ${url}: cannot reach the API (${(error as Error).message}). Is \`npm start\` running?`);
  }
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

function expect(res: { status: number; json: any; text: string }, statuses: number[], what: string): void {
  if (statuses.includes(res.status)) return;
  const error = res.json?.error;
  const hint = res.status === 404 && !error ? " (route missing: is this build's API complete?)" : "";
  throw new StepFailed(`${what}: HTTP ${res.status}${error ? ` ${error.code}: ${error.message}` : ` ${res.text.slice(0, 300)}`}${hint}`);
}

/** Follows an operation until it ends, printing step progress; fails unless it Succeeded. */
async function follow(res: { status: number; headers: Headers; json: any }, token: string, what: string): Promise<any> {
  if (res.status !== 202) return res.json;
  const location = res.headers.get("operation-location") ?? `/api/v1/operations/${res.json?.id}`;
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let last = "";
  for (;;) {
    const op = await call("GET", location, token);
    expect(op, [200], `${what}: reading ${location}`);
    const current = (op.json.steps ?? []).find((s: any) => s.status === "Running") ?? (op.json.steps ?? []).at(-1);
    const line = `${op.json.kind} ${op.json.status}${current ? ` · step ${current.name}${current.message ? ` (${current.message})` : ""}` : ""}${op.json.percentComplete !== undefined ? ` · ${op.json.percentComplete}%` : ""}`;
    if (line !== last) info(line);
    last = line;
    if (op.json.status === "Succeeded") return op.json;
    if (op.json.status === "Failed" || op.json.status === "Canceled") {
      throw new StepFailed(`${what}: operation ${op.json.id} ${op.json.status}${op.json.error ? ` — ${op.json.error.code}: ${op.json.error.message}` : ""}`);
    }
    if (Date.now() > deadline) throw new StepFailed(`${what}: operation ${op.json.id} still ${op.json.status} after ${STEP_TIMEOUT_MS / 1000} s`);
    const retryAfter = Number(op.headers.get("retry-after") ?? 1);
    await sleep(Math.min(5000, Math.max(200, retryAfter * 1000)));
  }
}

async function waitForJob(name: string, token: string, done: (job: any) => boolean): Promise<any> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let last = "";
  for (;;) {
    const res = await call("GET", `${cluster}/jobs/${name}`, token);
    expect(res, [200], `job ${name}`);
    const line = `${name}: ${res.json.status}${res.json.reason ? ` (${res.json.reason})` : ""}`;
    if (line !== last) info(line);
    last = line;
    if (done(res.json)) return res.json;
    if (["Failed", "TimedOut", "Canceled"].includes(res.json.status)) throw new StepFailed(`job ${name} ended ${res.json.status}: ${res.json.message ?? res.json.reason ?? ""}`);
    if (Date.now() > deadline) throw new StepFailed(`job ${name} still ${res.json.status} after ${STEP_TIMEOUT_MS / 1000} s`);
    await sleep(500);
  }
}

async function main(): Promise<void> {
  console.log(`aks-pod-sandbox demo against ${base}\nsubscription ${sub}, cluster ${rg}/${clusterName}`);
  const issuer = await LocalTokenIssuer.open(resolve(packageRoot(), process.env.SANDBOX_DATA_DIR ?? ".data"));
  const admin = await issuer.mint({ team: "alpha", roles: ["Sandbox.Admin"], name: "Demo Admin" });
  const operator = await issuer.mint({ team: "alpha", roles: ["Sandbox.Operator"], name: "Demo Operator" });
  const submitter = await issuer.mint({ team: "alpha", roles: ["Sandbox.Submitter"], name: "Demo Submitter" });

  step("The API is up and knows who we are");
  const who = await call("GET", "/whoami", submitter);
  expect(who, [200], "whoami");
  info(`${who.json.name} · team ${who.json.team} · roles ${who.json.roles.join(", ")}`);

  step("Register the Pod Sandboxing preview feature (az feature register / az provider register)");
  const feature = await call("PUT", `/subscriptions/${sub}/sandbox-feature`, admin);
  expect(feature, [200, 202], "register the sandbox feature");
  await follow(feature, admin, "feature registration");
  const state = await call("GET", `/subscriptions/${sub}/sandbox-feature`, admin);
  expect(state, [200], "read the sandbox feature");
  info(`feature ${state.json.featureName ?? "(none: GA flavour)"}: ${state.json.featureState ?? "n/a"}, provider ${state.json.providerState ?? "n/a"}, ready ${state.json.ready}`);

  step(`Create cluster ${clusterName} (az aks create --os-sku AzureLinux --workload-runtime …)`);
  const created = await call("PUT", cluster, operator, { location: "eastus", nodeVmSize: "Standard_D4s_v3", nodeCount: 1 });
  expect(created, [200, 201, 202], "create the cluster");
  await follow(created, operator, "cluster creation");

  step("Add a sandbox node pool (az aks nodepool add --workload-runtime … --node-vm-size Standard_D4s_v3)");
  const pool = await call("PUT", `${cluster}/sandbox-pools/kata`, operator, { vmSize: "Standard_D4s_v3", nodeCount: 1 });
  expect(pool, [200, 201, 202], "create the sandbox pool");
  await follow(pool, operator, "sandbox pool creation");
  const view = await call("GET", cluster, operator);
  expect(view, [200], "read the cluster");
  info(`sandbox ready: ${view.json.sandbox?.ready}, runtime class ${view.json.sandbox?.runtimeClassName}`);

  step("Run a trusted job and an untrusted (sandboxed) job: uname -r");
  const untrusted = await call("POST", `${cluster}/jobs`, submitter, { name: "untrusted-uname", image: IMAGE, command: ["uname", "-r"] });
  expect(untrusted, [201], "submit the untrusted job");
  info(`untrusted-uname: isolation ${untrusted.json.isolation}, runtimeClassName ${untrusted.json.runtimeClassName}, sandbox VM ${untrusted.json.sandboxVm?.vCpu} vCPU / ${untrusted.json.sandboxVm?.memoryMiB} MiB`);
  const trusted = await call("POST", `${cluster}/jobs`, operator, { name: "trusted-uname", image: IMAGE, command: ["uname", "-r"], isolation: "none" });
  expect(trusted, [201], "submit the trusted job");
  info("trusted-uname: isolation none (shared node kernel, Operator only)");
  await waitForJob("untrusted-uname", submitter, (j) => j.status === "Succeeded");
  await waitForJob("trusted-uname", submitter, (j) => j.status === "Succeeded");
  const sandboxLog = await call("GET", `${cluster}/jobs/untrusted-uname/logs`, submitter);
  expect(sandboxLog, [200], "untrusted job logs");
  const nodeLog = await call("GET", `${cluster}/jobs/trusted-uname/logs`, submitter);
  expect(nodeLog, [200], "trusted job logs");
  const col = 34;
  console.log(`\n    ${"untrusted (Kata VM sandbox)".padEnd(col)}trusted (node)`);
  console.log(`    ${sandboxLog.text.trim().padEnd(col)}${nodeLog.text.trim()}`);

  step("Isolation check (uname -r in a sandboxed and a trusted pod on the same sandbox node)");
  const check = await call("POST", `${cluster}/isolation-checks`, submitter);
  expect(check, [202], "start the isolation check");
  const result = (await follow(check, submitter, "isolation check")).result;
  info(`sandbox kernel ${result.sandboxKernel} · node kernel ${result.nodeKernel} · runtime class ${result.runtimeClassName}`);
  info(`verdict: ${result.isolated ? "ISOLATED — the sandboxed pod runs its own kernel" : `NOT isolated — ${result.reason ?? ""}`}`);
  if (!result.isolated) throw new StepFailed("the isolation check did not prove isolation");

  step("Clean up: jobs, sandbox pool, cluster");
  for (const name of ["untrusted-uname", "trusted-uname"]) {
    const res = await call("DELETE", `${cluster}/jobs/${name}`, submitter);
    expect(res, [200, 202], `delete job ${name}`);
    info(`${name}: ${res.json.status}`);
  }
  const poolGone = await call("DELETE", `${cluster}/sandbox-pools/kata`, operator);
  expect(poolGone, [202, 204], "delete the sandbox pool");
  await follow(poolGone, operator, "sandbox pool deletion");
  const clusterGone = await call("DELETE", cluster, operator);
  expect(clusterGone, [202, 204], "delete the cluster");
  await follow(clusterGone, operator, "cluster deletion");
  console.log("\ndemo succeeded");
}

main().catch((error: unknown) => {
  console.error(`\ndemo FAILED at step ${stepNumber}: ${error instanceof StepFailed ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
