/**
 * HTTP benchmarks against the local stack (`npm start` as a child process,
 * simulated Azure and Azurite), each next to a floor measured in the same run
 * against the same emulators:
 * - statusGet: GET /operations/{id} of a finished operation and GET
 *   …/jobs/{job} of a finished job vs a raw Table point read of the same row;
 * - jobSubmit: POST …/jobs vs a raw @kubernetes/client-node Job create;
 * - throughput: requests/s and p99 at 50 concurrent clients (autocannon).
 * All traffic on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { odata, TableClient } from "@azure/data-tables";
import { BatchV1Api, KubeConfig, type V1Job } from "@kubernetes/client-node";
import { kubeconfigForCluster } from "../src/emulators/kubernetes/kubeconfigForCluster.js";
import { shardOfOperationId } from "../src/domain/operations/operation.js";
import { poll, startSandboxStack, type SandboxStack } from "../test/support/sandboxStack.js";
import { interleaved, ratio, summarize, type LatencySummary } from "./latencyStats.js";

const SEED_IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const RG = "rg-bench";
const CLUSTER = "benchaks";

export interface PairFigure {
  route: string;
  measured: LatencySummary;
  floor: LatencySummary & { what: string };
  p50Ratio: number;
}

export interface ThroughputFigure {
  route: string;
  connections: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

export interface ApiBenchmarks {
  statusGet: { target: number; p50Ratio: number; operation: PairFigure; job: PairFigure };
  jobSubmit: { target: number; p50Ratio: number } & PairFigure;
  throughput: { connections: number; routes: ThroughputFigure[] };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

async function ok(res: Response, what: string): Promise<any> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text.length > 0 ? JSON.parse(text) : undefined;
}

function tableClientFor(stack: SandboxStack, table: string): TableClient {
  return TableClient.fromConnectionString(stack.host.ready.tables ? connectionOf(stack) : "", table, {
    allowInsecureConnection: true,
  });
}

function connectionOf(stack: SandboxStack): string {
  const endpoint = stack.host.ready.tables!;
  const key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
  return `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};TableEndpoint=${endpoint};`;
}

async function finishedOperation(stack: SandboxStack, operator: string): Promise<string> {
  const res = await stack.call("PUT", `${stack.clusterPath(RG, CLUSTER)}/sandbox-pools/benchpool`, operator, {
    vmSize: "Standard_D4s_v3",
    nodeCount: 1,
  });
  const body = await ok(res, "create sandbox pool");
  const id = String(body.id);
  await poll(
    async () => {
      const op = await ok(await stack.call("GET", `/operations/${id}`, operator), "get operation");
      if (op.status === "Failed" || op.status === "Canceled")
        throw new Error(`pool operation ended ${op.status}: ${JSON.stringify(op.error)}`);
      return op.status === "Succeeded" ? op : undefined;
    },
    "the pool operation to succeed",
    120_000,
    200,
  );
  return id;
}

/** Submits `bench-done`, keeps the Job the product created (before Kubernetes cleans it up) and waits for the end. */
async function finishedJob(
  stack: SandboxStack,
  submitter: string,
  jobs: string,
): Promise<{ job: any; manifest: V1Job }> {
  await ok(
    await stack.call("POST", jobs, submitter, {
      image: SEED_IMAGE,
      name: "bench-done",
      command: ["/bin/sh", "-c"],
      args: ["echo done"],
    }),
    "submit job",
  );
  const manifest = stack.azure.kubernetes
    .snapshot(stack.clusterKey(RG, CLUSTER))
    .jobs.find((j) => j.metadata?.name === "bench-done") as V1Job | undefined;
  if (!manifest) throw new Error("the product's Job is not in the emulator");
  const job = await poll(
    async () => {
      const job = await ok(await stack.call("GET", `${jobs}/bench-done`, submitter), "get job");
      return job.status === "Succeeded" || job.status === "Failed" ? job : undefined;
    },
    "the job to finish",
    120_000,
    200,
  );
  return { job, manifest: structuredClone(manifest) };
}

async function throughput(
  stack: SandboxStack,
  route: string,
  token: string,
  durationSeconds: number,
): Promise<ThroughputFigure> {
  const result = await autocannon({
    url: `${stack.host.api}${route}`,
    connections: 50,
    duration: durationSeconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    route,
    connections: 50,
    durationSeconds,
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Runs the three HTTP benchmarks on one local stack. */
export async function measureApi(
  options: { rounds?: number; submitRounds?: number; throughputSeconds?: number } = {},
): Promise<ApiBenchmarks> {
  const rounds = options.rounds ?? 300;
  const submitRounds = options.submitRounds ?? 60;
  const throughputSeconds = options.throughputSeconds ?? 5;
  // The bench team may run many jobs at once (the sample policy allows 5).
  const policyDir = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-bench-"));
  const policyFile = join(policyDir, "bench.policy.json");
  writeFileSync(
    policyFile,
    JSON.stringify({
      version: 1,
      defaults: { allowedRegistries: ["mcr.microsoft.com/"], quotas: { maxConcurrentJobs: 1000 } },
      teams: {
        alpha: { scopes: [{ subscriptionId: "11111111-1111-1111-1111-111111111111" }], namespace: "sandbox-alpha" },
      },
    }),
  );
  const stack = await startSandboxStack({ scale: 0.01, env: { SANDBOX_POLICY_FILE: policyFile } });
  try {
    await stack.createCluster(RG, CLUSTER);
    const operator = await stack.host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
    const jobsPath = `${stack.clusterPath(RG, CLUSTER)}/jobs`;
    const operationId = await finishedOperation(stack, operator);
    const { job, manifest: created } = await finishedJob(stack, operator, jobsPath);

    // statusGet: the API vs a point read of the same row from the same Azurite.
    const operations = tableClientFor(stack, "operations");
    const jobRows = tableClientFor(stack, "sandboxjobs");
    let jobRowKey: { partitionKey: string; rowKey: string } | undefined;
    for await (const row of jobRows.listEntities({ queryOptions: { filter: odata`name eq ${"bench-done"}` } })) {
      if (String(row.rowKey).startsWith("job|"))
        jobRowKey = { partitionKey: String(row.partitionKey), rowKey: String(row.rowKey) };
    }
    if (!jobRowKey) throw new Error("no job row found");
    const opPair = await interleaved(
      rounds,
      30,
      async () => ok(await stack.call("GET", `/operations/${operationId}`, operator), "get operation"),
      // The operation's shard partition: the id's last two characters name it.
      () => operations.getEntity(`ops-${shardOfOperationId(operationId)}`, `o|${operationId}`),
    );
    const jobPair = await interleaved(
      rounds,
      30,
      async () => ok(await stack.call("GET", `${jobsPath}/bench-done`, operator), "get job"),
      () => jobRows.getEntity(jobRowKey.partitionKey, jobRowKey.rowKey),
    );
    const pair = (route: string, samples: { measured: number[]; floor: number[] }, what: string): PairFigure => {
      const measured = summarize(samples.measured);
      const floor = summarize(samples.floor);
      return { route, measured, floor: { what, ...floor }, p50Ratio: ratio(measured.p50Ms, floor.p50Ms) };
    };
    const operation = pair(
      "GET /api/v1/operations/{id} (Succeeded)",
      opPair,
      "TableClient.getEntity of the operation row",
    );
    const jobFigure = pair(`GET …/jobs/{job} (${String(job.status)})`, jobPair, "TableClient.getEntity of the job row");

    // jobSubmit: the API vs one Job create with @kubernetes/client-node against the same emulator.
    const cluster = stack.azure.cloud.getCluster(stack.clusterKey(RG, CLUSTER));
    if (!cluster) throw new Error("bench cluster missing in the emulator");
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigForCluster(stack.azure.cloud, cluster));
    const batch = kc.makeApiClient(BatchV1Api);
    // The same manifest, minus what the API server generated (selector, controller labels).
    const generated = [
      "controller-uid",
      "batch.kubernetes.io/controller-uid",
      "job-name",
      "batch.kubernetes.io/job-name",
    ];
    const podLabels = Object.fromEntries(
      Object.entries(created.spec?.template.metadata?.labels ?? {}).filter(([k]) => !generated.includes(k)),
    );
    const spec = {
      ...created.spec!,
      selector: undefined,
      template: { ...created.spec!.template, metadata: { ...created.spec!.template.metadata, labels: podLabels } },
    };
    const template: V1Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { labels: created.metadata?.labels ?? {} },
      spec,
    };
    const submitPair = await interleaved(
      submitRounds,
      5,
      async (i) =>
        ok(
          await stack.call("POST", jobsPath, operator, {
            image: SEED_IMAGE,
            name: `bench-api-${i}`,
            command: ["/bin/sh", "-c"],
            args: ["echo hi"],
          }),
          "submit job",
        ),
      (i) =>
        batch.createNamespacedJob({
          namespace: String(created.metadata?.namespace),
          body: { ...template, metadata: { ...template.metadata, name: `bench-raw-${i}` } },
        }),
    );
    const submit = pair("POST …/clusters/{name}/jobs", submitPair, "BatchV1Api.createNamespacedJob of the same Job");

    // throughput: the main read routes at 50 concurrent clients.
    const routes = [
      `/operations/${operationId}`,
      `${jobsPath}/bench-done`,
      "/operations?top=50",
      "/jobs?top=50",
      "/whoami",
    ];
    const figures: ThroughputFigure[] = [];
    for (const route of routes) figures.push(await throughput(stack, route, operator, throughputSeconds));

    return {
      statusGet: { target: 1.5, p50Ratio: Math.max(operation.p50Ratio, jobFigure.p50Ratio), operation, job: jobFigure },
      jobSubmit: { target: 2, ...submit },
      throughput: { connections: 50, routes: figures },
    };
  } finally {
    await stack.close();
    rmSync(policyDir, { recursive: true, force: true });
  }
}
