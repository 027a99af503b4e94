/**
 * One reconcile pass of the operations engine over a large table: active
 * operations (some due) and a terminal history (10,000 and 100,000 by
 * default, the sizes), seeded directly into Azurite with batch
 * transactions of 100 rows. Every Table request of the
 * pass is counted (requests, entities returned). The floor: the same pass
 * over a table holding the same active operations and no history, measured
 * in the same run — reads must scale with due operations, not history.
 * ARM is a stub port answering "still running, retry in 60 s" (no network),
 * so the figure is the engine's and the table's alone.
 *
 * Azurite runs with bench/azuriteIndexedPointLookups.mjs preloaded: its
 * LokiJS store scans the whole partition for every point lookup, which makes
 * seeding 220,000 rows O(n²) (about 2 hours); the preload answers those lookups from a
 * Map and changes no result. BENCH_AZURITE_PLAIN=1 runs plain Azurite.
 */
import { randomUUID } from "node:crypto";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { operationPartition, TableOperationStore } from "../src/adapters/tables/operationTable.js";
import type { ArmLroProgress, ArmOperations } from "../src/domain/operations/armOperations.js";
import { createSandboxPoolKind } from "../src/domain/operations/kinds/sandboxPoolKinds.js";
import { OperationEngine } from "../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../src/domain/operations/operationKinds.js";
import { startAzurite } from "../src/localhost/azuriteProcess.js";
import { ratio, timed } from "./latencyStats.js";

export interface PassFigures {
  activeOperations: number;
  terminalOperations: number;
  dueOperations: number;
  tableRequests: number;
  entitiesRead: number;
  /** Entities the pass read that belong to terminal operations (history). */
  historyEntitiesRead: number;
  passWallMs: number;
  advanced: number;
  /** Rows written before the pass (2 per operation) and the seconds that took. */
  seededRows: number;
  seedSeconds: number;
  /** Median of 3 timings of the due-list query alone (uncounted), before the pass. */
  listDueMs: number;
}

export interface ReconcilePassBenchmark {
  description: string;
  measured: PassFigures;
  floor: PassFigures & { what: string };
  /** Table requests of the pass with history ÷ without. Target 1 (reads scale with due operations). */
  tableRequestsRatio: number;
  /** Entities returned with history ÷ without (varies with how often a due entry is listed before it is advanced). */
  entitiesReadRatio: number;
  entitiesReadPerDueOperation: number;
  /** Both tables' seeding, seconds. */
  seedSeconds: number;
  /** Whether Azurite ran with the indexed point lookups preload. */
  azuriteIndexedPointLookups: boolean;
}

const running: ArmLroProgress = {
  status: "running",
  pollerState: JSON.stringify({ bench: true }),
  retryAfterMs: 60_000,
};
const stubArm: ArmOperations = {
  startLro: async () => running,
  pollLro: async () => running,
  abortAgentPoolOperation: async () => undefined,
  getAgentPool: async () => undefined,
};

interface Counter {
  requests: number;
  entities: number;
  historyEntities: number;
}

/** Counts every request and every entity in query/point-read answers. */
function countingPolicy(counter: Counter): PipelinePolicy {
  return {
    name: "benchCountingPolicy",
    async sendRequest(request, next) {
      const response = await next(request);
      counter.requests++;
      if (request.method === "GET" && response.bodyAsText) {
        const body = JSON.parse(response.bodyAsText) as {
          value?: { RowKey?: string; status?: string }[];
          RowKey?: string;
          status?: string;
        };
        const rows = body.value ?? [body];
        counter.entities += rows.length;
        counter.historyEntities += rows.filter(
          (r) => r.RowKey?.startsWith("x|") || (r.RowKey?.startsWith("o|") && r.status === "Succeeded"),
        ).length;
      }
      return response;
    },
  };
}

async function seed(client: TableClient, rows: TableEntity[], parallel = 6): Promise<void> {
  const batches: TransactionAction[][] = [];
  for (let i = 0; i < rows.length; i += 100)
    batches.push(rows.slice(i, i + 100).map((r): TransactionAction => ["create", r]));
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        const index = next++;
        await client.submitTransaction(batches[index]!);
        // Full size seeds 220,000 rows: say how far it got now and then.
        if (index > 0 && index % 250 === 0) console.log(`    seeded ${index * 100} of ${rows.length} rows`);
      }
    }),
  );
}

async function pass(
  connectionString: string,
  table: string,
  counts: { active: number; terminal: number; due: number },
): Promise<PassFigures> {
  const setup = TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
  await setup.createTable();
  const kinds = new OperationKindRegistry([createSandboxPoolKind()]);
  const template = new OperationEngine({
    store: new TableOperationStore(setup),
    arm: stubArm,
    kinds,
    settings: { scale: 1 },
  });
  const pool = {
    subscriptionId: "00000000-0000-0000-0000-00000000beef",
    resourceGroup: "rg",
    clusterName: "c",
    poolName: "p",
  };
  const op = await template.submit({
    kind: "CreateSandboxPool",
    target: "/subscriptions/00000000-0000-0000-0000-00000000beef/resourceGroups/rg/clusters/c/sandbox-pools/p",
    subscriptionId: pool.subscriptionId,
    input: {
      pool,
      spec: {
        vmSize: "Standard_D4s_v3",
        count: 1,
        mode: "User",
        osType: "Linux",
        osSKU: "AzureLinux",
        workloadRuntime: "KataMshvVmIsolation",
      },
      apiVersion: "2026-10-02-preview",
    },
    createdBy: "bench",
    team: "alpha",
    correlationId: randomUUID(),
  });
  await template.reconcile({ passMs: 1 }); // the PUT: the row is Running with a poller state now
  // The subscription's shard: seeded ids end with its two characters, as the product's ids do.
  const partition = operationPartition(pool.subscriptionId);
  const shard = op.id.slice(-2);
  const opRow = await setup.getEntity(partition, `o|${op.id}`);
  const activeRow = await setup.getEntity(partition, `a|${op.id}`);
  const strip = ({ etag: _e, timestamp: _t, ...rest }: Record<string, unknown>) => rest as TableEntity;
  const now = Date.now();
  const pad = (ms: number) => String(ms).padStart(15, "0");
  const rows: TableEntity[] = [];
  for (let i = 0; i < counts.active; i++) {
    const id = `op_bench_a${String(i).padStart(6, "0")}${shard}`;
    const nextPollAt = pad(i < counts.due ? now - 1000 : now + 3_600_000);
    rows.push(
      { ...strip(opRow), rowKey: `o|${id}`, nextPollAt },
      { ...strip(activeRow), rowKey: `a|${id}`, nextPollAt },
    );
  }
  for (let i = 0; i < counts.terminal; i++) {
    const id = `op_bench_t${String(i).padStart(6, "0")}${shard}`;
    const endedAt = now - 86_400_000 + i;
    rows.push(
      { ...strip(opRow), rowKey: `o|${id}`, status: "Succeeded", endedAt: new Date(endedAt).toISOString() },
      { partitionKey: partition, rowKey: `x|${pad(endedAt)}|${id}`, operationId: id },
    );
  }
  await setup.deleteEntity(partition, `o|${op.id}`);
  await setup.deleteEntity(partition, `a|${op.id}`);
  const seedStarted = performance.now();
  await seed(setup, rows);
  const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;

  // What Azurite's query costs as the partition grows (it scans; Azure seeks).
  const timings: number[] = [];
  const uncounted = new TableOperationStore(setup);
  for (let i = 0; i < 3; i++) timings.push(await timed(() => uncounted.listActive({ dueBy: Date.now() })));
  const listDueMs = Math.round(timings.sort((a, b) => a - b)[1]!);

  const counter: Counter = { requests: 0, entities: 0, historyEntities: 0 };
  const counted = TableClient.fromConnectionString(connectionString, table, {
    allowInsecureConnection: true,
    additionalPolicies: [{ policy: countingPolicy(counter), position: "perCall" }],
  });
  const engine = new OperationEngine({
    store: new TableOperationStore(counted),
    arm: stubArm,
    kinds,
    settings: { scale: 1, concurrency: 8 },
  });
  const started = performance.now();
  const report = await engine.reconcile({ passMs: 2000 });
  return {
    activeOperations: counts.active,
    terminalOperations: counts.terminal,
    dueOperations: counts.due,
    tableRequests: counter.requests,
    entitiesRead: counter.entities,
    historyEntitiesRead: counter.historyEntities,
    passWallMs: Math.round(performance.now() - started),
    advanced: report.advanced,
    seededRows: rows.length,
    seedSeconds,
    listDueMs,
  };
}

export async function measureReconcilePass(
  options: { active?: number; terminal?: number; due?: number } = {},
): Promise<ReconcilePassBenchmark> {
  const active = options.active ?? 10_000;
  const terminal = options.terminal ?? 100_000;
  const due = options.due ?? 100;
  const indexed = process.env.BENCH_AZURITE_PLAIN !== "1";
  const azurite = await startAzurite(
    indexed ? { preload: [new URL("./azuriteIndexedPointLookups.mjs", import.meta.url).href] } : {},
  );
  try {
    const floor = await pass(azurite.connectionString, "benchnohistory", { active, terminal: 0, due });
    const measured = await pass(azurite.connectionString, "benchhistory", { active, terminal, due });
    return {
      description: `one reconcile pass (2 s) with ${active} active operations (${due} due) and ${terminal} terminal ones`,
      measured,
      floor: { what: "the same pass with no terminal operations in the table", ...floor },
      tableRequestsRatio: ratio(measured.tableRequests, floor.tableRequests),
      entitiesReadRatio: ratio(measured.entitiesRead, floor.entitiesRead),
      entitiesReadPerDueOperation: ratio(measured.entitiesRead, due),
      seedSeconds: Math.round(floor.seedSeconds + measured.seedSeconds),
      azuriteIndexedPointLookups: indexed,
    };
  } finally {
    await azurite.stop();
  }
}
