/**
 * `npm run demo [-- <api base URL>]`: walks the Pod Sandboxing seed scenario
 * against a running `npm start` (simulated Azure) the way a portal would:
 * only through the typed client (`clients/typescript`), no hand-written HTTP.
 *
 *  1. register the preview feature on the demo subscription,
 *  2. create a cluster and add a sandbox pool,
 *  3. run a trusted and an untrusted job (`uname -r`), printing the live log,
 *     and show both kernels,
 *  4. run the isolation check and print its verdict,
 *  5. page through the team's jobs and operations,
 *  6. clean up (jobs, pool, cluster).
 *
 * Base URL: the first argument, else SANDBOX_API_URL, else
 * http://127.0.0.1:7071/api/v1. Tokens come from the local issuer in
 * `.data/` (SANDBOX_DATA_DIR), shared with `npm start`. Exits 1 at the first
 * failing step, naming it and the API's error code. Tip:
 * `SIM_TIME_SCALE=0.01 npm start` makes Azure's minutes take seconds.
 */
import { resolve } from "node:path";
import {
  createSandboxClient,
  isSandboxApiError,
  unwrap,
  type Operation,
  type SandboxClient,
} from "../clients/typescript/src/index.js";
import { DEMO_SUBSCRIPTION_ID } from "../src/config/simulatedPolicy.js";
import { LocalTokenIssuer } from "../src/localhost/localTokenIssuer.js";
import { packageRoot } from "../src/packageRoot.js";

const base = (process.argv[2] ?? process.env.SANDBOX_API_URL ?? "http://127.0.0.1:7071/api/v1").replace(/\/+$/, "");
const subscriptionId = process.env.DEMO_SUBSCRIPTION_ID ?? DEMO_SUBSCRIPTION_ID;
const resourceGroup = process.env.DEMO_RESOURCE_GROUP ?? "rg-pod-sandbox-demo";
const clusterName = process.env.DEMO_CLUSTER ?? `demo-${Date.now().toString(36)}`;
const cluster = { subscriptionId, resourceGroup, clusterName };
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
/** Wall-clock limit of one long-running step (simulated Azure at scale 1 takes minutes). */
const STEP_TIMEOUT_MS = Number(process.env.DEMO_STEP_TIMEOUT_SECONDS ?? 3600) * 1000;

const CLUSTER = "/v1/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/clusters/{clusterName}";
const POOL = `${CLUSTER}/sandbox-pools/{poolName}` as const;
const JOBS = `${CLUSTER}/jobs` as const;
const JOB = `${CLUSTER}/jobs/{jobName}` as const;

let stepNumber = 0;
function step(title: string): void {
  stepNumber += 1;
  console.log(`\n[${stepNumber}] ${title}`);
}
const info = (text: string): void => console.log(`    ${text}`);

/** Progress printer for `waitForOperation`: one line whenever status, step or percentage change. */
function progress(): (op: Operation) => void {
  let last = "";
  return (op) => {
    const current = (op.steps ?? []).find((s) => s.status === "Running") ?? (op.steps ?? []).at(-1);
    const line = `${op.kind} ${op.status}${current ? ` · step ${current.name}${current.message ? ` (${current.message})` : ""}` : ""}${op.percentComplete !== undefined ? ` · ${op.percentComplete}%` : ""}`;
    if (line !== last) info(line);
    last = line;
  };
}

/** Waits for the operation a 202 answered with (`Operation-Location`); other answers are final already. */
async function settle(client: SandboxClient, response: Response): Promise<Operation | undefined> {
  if (response.status !== 202) return undefined;
  const location = response.headers.get("operation-location");
  if (!location) throw new Error("a 202 without Operation-Location");
  return client.waitForOperation(location, { onProgress: progress(), signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
}

async function main(): Promise<void> {
  console.log(
    `aks-pod-sandbox demo against ${base}\nsubscription ${subscriptionId}, cluster ${resourceGroup}/${clusterName}`,
  );
  const issuer = await LocalTokenIssuer.open(resolve(packageRoot(), process.env.SANDBOX_DATA_DIR ?? ".data"));
  const as = (roles: string[], name: string): SandboxClient =>
    createSandboxClient({ endpoint: base, token: () => issuer.mint({ team: "alpha", roles, name }) });
  const admin = as(["Sandbox.Admin"], "Demo Admin");
  const operator = as(["Sandbox.Operator"], "Demo Operator");
  const submitter = as(["Sandbox.Submitter"], "Demo Submitter");

  step("The API is up and knows who we are");
  const who = await unwrap(submitter.api.GET("/v1/whoami"));
  info(`${who.name} · team ${who.team ?? "none"} · roles ${who.roles.join(", ")}`);

  step("Register the Pod Sandboxing preview feature (az feature register / az provider register)");
  const feature = await admin.api.PUT("/v1/subscriptions/{subscriptionId}/sandbox-feature", {
    params: { path: { subscriptionId } },
  });
  await unwrap(Promise.resolve(feature));
  await settle(admin, feature.response);
  const state = await unwrap(
    admin.api.GET("/v1/subscriptions/{subscriptionId}/sandbox-feature", { params: { path: { subscriptionId } } }),
  );
  info(
    `feature ${state.featureName ?? "(none: GA flavour)"}: ${state.featureState ?? "n/a"}, provider ${state.providerState ?? "n/a"}, ready ${state.ready}`,
  );

  step(`Create cluster ${clusterName} (az aks create --os-sku AzureLinux --workload-runtime …)`);
  const created = await operator.api.PUT(CLUSTER, {
    params: { path: cluster },
    body: { location: "eastus", nodeVmSize: "Standard_D4s_v3", nodeCount: 1 },
  });
  await unwrap(Promise.resolve(created));
  await settle(operator, created.response);

  step("Add a sandbox node pool (az aks nodepool add --workload-runtime … --node-vm-size Standard_D4s_v3)");
  const pool = await operator.api.PUT(POOL, {
    params: { path: { ...cluster, poolName: "kata" }, query: {} },
    body: { vmSize: "Standard_D4s_v3", nodeCount: 1 },
  });
  await unwrap(Promise.resolve(pool));
  await settle(operator, pool.response);
  const view = await unwrap(operator.api.GET(CLUSTER, { params: { path: cluster } }));
  info(`sandbox ready: ${view.sandbox?.ready}, runtime class ${view.sandbox?.runtimeClassName}`);

  step("Run a trusted job and an untrusted (sandboxed) job: uname -r, with their live logs");
  const untrusted = await unwrap(
    submitter.api.POST(JOBS, {
      params: { path: cluster },
      body: { name: "untrusted-uname", image: IMAGE, command: ["uname", "-r"] },
    }),
  );
  info(
    `untrusted-uname: isolation ${untrusted.isolation}, runtimeClassName ${untrusted.runtimeClassName}, sandbox VM ${untrusted.sandboxVm?.vCpu} vCPU / ${untrusted.sandboxVm?.memoryMiB} MiB`,
  );
  await unwrap(
    operator.api.POST(JOBS, {
      params: { path: cluster },
      body: { name: "trusted-uname", image: IMAGE, command: ["uname", "-r"], isolation: "none" },
    }),
  );
  info("trusted-uname: isolation none (shared node kernel, Operator only)");
  const kernels: Record<string, string> = {};
  for (const jobName of ["untrusted-uname", "trusted-uname"]) {
    for await (const event of submitter.followJobLog(
      { ...cluster, jobName },
      { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) },
    )) {
      if (event.type === "line") {
        info(`${jobName} | ${event.text}`);
        kernels[jobName] = event.text.trim();
      } else {
        info(
          `${jobName}: ${event.job.status}${event.job.exitCode !== undefined ? ` (exit code ${event.job.exitCode})` : ""}`,
        );
        if (event.job.status !== "Succeeded")
          throw new Error(`job ${jobName} ended ${event.job.status}: ${event.job.message ?? event.job.reason ?? ""}`);
      }
    }
  }
  const col = 34;
  console.log(`\n    ${"untrusted (Kata VM sandbox)".padEnd(col)}trusted (node)`);
  console.log(`    ${(kernels["untrusted-uname"] ?? "").padEnd(col)}${kernels["trusted-uname"] ?? ""}`);

  step("Isolation check (uname -r in a sandboxed and a trusted pod on the same sandbox node)");
  const check = await submitter.api.POST(`${CLUSTER}/isolation-checks`, { params: { path: cluster } });
  await unwrap(Promise.resolve(check));
  const verdict = (await settle(submitter, check.response))?.result as
    | {
        isolated?: boolean;
        sandboxKernel?: string;
        nodeKernel?: string;
        runtimeClassName?: string;
        reason?: string;
        probes?: Array<{ name: string; passed: boolean; observed: string; evidence: string }>;
      }
    | undefined;
  info(
    `sandbox kernel ${verdict?.sandboxKernel} · node kernel ${verdict?.nodeKernel} · runtime class ${verdict?.runtimeClassName}`,
  );
  // Every containment probe with its verdict and evidence.
  for (const p of verdict?.probes ?? []) {
    info(
      `${p.passed ? "PASS" : "FAIL"}  ${p.name.padEnd(20)} ${p.observed.padEnd(16)} ${p.evidence.split("\n")[0]?.slice(0, 90) ?? ""}`,
    );
  }
  info(
    `verdict: ${verdict?.isolated ? "ISOLATED — own kernel, contained network, no credentials" : `NOT_ISOLATED — ${verdict?.reason ?? ""}`}`,
  );
  if (!verdict?.isolated) throw new Error("the isolation check did not prove isolation");

  step("Page through the team's jobs and operations (2 per page)");
  let jobCount = 0;
  for await (const job of submitter.listJobs({ cluster: clusterName, top: 2 })) {
    jobCount += 1;
    info(`job ${job.name}: ${job.status}`);
  }
  let operationCount = 0;
  for await (const op of submitter.listOperations({ top: 2 })) {
    operationCount += 1;
    if (op.target?.includes(`/clusters/${clusterName}`)) info(`operation ${op.kind}: ${op.status}`);
  }
  info(`${jobCount} jobs, ${operationCount} operations`);

  step("Clean up: jobs, sandbox pool, cluster");
  for (const jobName of ["untrusted-uname", "trusted-uname"]) {
    const job = await unwrap(submitter.api.DELETE(JOB, { params: { path: { ...cluster, jobName } } }));
    info(`${jobName}: ${job.status}`);
  }
  const poolGone = await operator.api.DELETE(POOL, { params: { path: { ...cluster, poolName: "kata" } } });
  await unwrap(Promise.resolve(poolGone));
  await settle(operator, poolGone.response);
  const clusterGone = await operator.api.DELETE(CLUSTER, { params: { path: cluster } });
  await unwrap(Promise.resolve(clusterGone));
  await settle(operator, clusterGone.response);
  console.log("\ndemo succeeded");
}

main().catch((error: unknown) => {
  const reason = isSandboxApiError(error)
    ? `${error.code}: ${error.message}${error.requestId ? ` (x-ms-request-id ${error.requestId})` : ""}${error.code === "ConnectionFailed" ? " Is `npm start` running?" : ""}`
    : error instanceof Error
      ? error.message
      : String(error);
  console.error(`\ndemo FAILED at step ${stepNumber}: ${reason}`);
  process.exit(1);
});
