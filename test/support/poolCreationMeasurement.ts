/**
 * ARM reads and detection lag of one 3-minute (simulated) sandbox pool
 * creation, driven by the operations engine versus the SDK's default 2-second
 * poll loop, against the ARM emulator in "no Retry-After" mode and Azurite.
 * All traffic on 127.0.0.1.
 */
import { randomUUID } from "node:crypto";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { ArmClientFactory } from "../../src/adapters/arm/armClients.js";
import { AzureArmOperations } from "../../src/adapters/arm/azureArmOperations.js";
import { TableOperationStore } from "../../src/adapters/tables/operationTable.js";
import { createSandboxPoolKind, deleteSandboxPoolKind } from "../../src/domain/operations/kinds/sandboxPoolKinds.js";
import { OperationEngine } from "../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../src/domain/operations/operationKinds.js";
import { sandboxFlavor } from "../../src/domain/sandbox/sandboxFlavor.js";
import { startAzurite } from "../../src/localhost/azuriteProcess.js";
import { SUB, createReadyCluster, staticCredential, startTestArm, waitUntil, type TestArm } from "./armTestSupport.js";

export interface PollingFigures {
  /** ARM GETs after the PUT (operation status + final resource reads). */
  armReadsPerOperation: number;
  /** Simulated seconds from the emulator's `endTime` to the first read that saw it. */
  detectionLagSeconds: number;
}

export interface PoolCreationBenchmark {
  engine: PollingFigures;
  sdkDefaultPolling: PollingFigures;
  /** SDK reads ÷ engine reads. */
  readsRatio: number;
  poolCreateSeconds: number;
  timeScale: number;
}

const FLAVOR = sandboxFlavor("preview");
const RG = "rg-bench";

function figures(t: TestArm, pool: string): PollingFigures {
  const entries = t.arm.requestLog.entries();
  const put = entries.find(
    (e) => e.method === "PUT" && e.path.endsWith(`/agentPools/${pool}`) && (e.status === 200 || e.status === 201),
  );
  if (!put) throw new Error(`no PUT for ${pool}`);
  const op = [...t.arm.state.operations.values()].find((o) => o.poolName === pool && o.kind === "poolCreate");
  if (!op?.endSimMs) throw new Error(`emulator operation of ${pool} did not end`);
  const statusPath = `/providers/Microsoft.ContainerService/locations/${op.location}/operations/${op.id}`.toLowerCase();
  const reads = entries.filter(
    (e) =>
      e.seq > put.seq &&
      e.method === "GET" &&
      (e.path.toLowerCase().endsWith(statusPath) || e.path.toLowerCase().endsWith(`/agentpools/${pool}`)),
  );
  const seen = reads.find((e) => Date.parse(e.simulatedTime) >= op.endSimMs!);
  if (!seen) throw new Error(`no read after the end of ${pool}`);
  return {
    armReadsPerOperation: reads.length,
    detectionLagSeconds: Math.round((Date.parse(seen.simulatedTime) - op.endSimMs) / 100) / 10,
  };
}

/**
 * Runs one engine-driven and one SDK-default pool creation of
 * `poolCreateSeconds` simulated seconds at `timeScale` and returns both
 * figures (deterministic enough to assert on: they come from the emulator's
 * log in simulated time).
 */
export async function measurePoolCreation(
  options: { timeScale?: number; poolCreateSeconds?: number } = {},
): Promise<PoolCreationBenchmark> {
  const timeScale = options.timeScale ?? 0.01;
  const poolCreateSeconds = options.poolCreateSeconds ?? 180;
  const [azurite, t] = await Promise.all([
    startAzurite(),
    startTestArm({ poolCreateSeconds, sendRetryAfter: false, clusterCreateSeconds: 60 }, timeScale),
  ]);
  try {
    t.arm.state.setFeatureState(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
    t.arm.state.registerProvider(SUB, "Microsoft.ContainerService");
    await waitUntil(() => t.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered", 30_000);
    await Promise.all(
      [createReadyCluster(t, RG, "bench-engine"), createReadyCluster(t, RG, "bench-sdk")].map((p) => p),
    );

    // Engine: submit (row + PUT), then the reconciler's passes, back to back as the timer would run them.
    const store = new TableOperationStore(
      { connectionString: azurite.connectionString, allowInsecure: true },
      `bench${randomUUID().replace(/-/g, "").slice(0, 16)}`,
    );
    const clients = new ArmClientFactory(
      { armEndpoint: t.arm.url, simulate: true, simulatedCaCertPath: undefined, azureAuthorityHost: undefined },
      { credential: staticCredential, httpClient: t.clientOptions.httpClient },
    );
    const engine = new OperationEngine({
      store,
      arm: new AzureArmOperations(clients),
      kinds: new OperationKindRegistry([createSandboxPoolKind(), deleteSandboxPoolKind()]),
      settings: { scale: timeScale, passMs: 1000 },
    });
    const pool = { subscriptionId: SUB, resourceGroup: RG, clusterName: "bench-engine", poolName: "kataeng" };
    const op = await engine.submit({
      kind: "CreateSandboxPool",
      target: `/subscriptions/${SUB}/resourceGroups/${RG}/clusters/bench-engine/sandbox-pools/kataeng`,
      subscriptionId: SUB,
      serialKey: `/subscriptions/${SUB}/resourcegroups/${RG}/providers/microsoft.containerservice/managedclusters/bench-engine`,
      input: {
        pool,
        spec: {
          vmSize: "Standard_D4s_v3",
          count: 1,
          mode: "User",
          osType: "Linux",
          osSKU: "AzureLinux",
          workloadRuntime: FLAVOR.workloadRuntime,
        },
        apiVersion: FLAVOR.containerServiceApiVersion,
      },
      createdBy: "bench",
      team: undefined,
      correlationId: randomUUID(),
    });
    const deadline = Date.now() + poolCreateSeconds * 1000 * timeScale * 4 + 20_000;
    for (;;) {
      const current = (await store.get(op.id))!.record;
      if (current.status === "Succeeded") break;
      if (current.status !== "Running" && current.status !== "NotStarted")
        throw new Error(`engine operation ended ${current.status}: ${JSON.stringify(current.error)}`);
      if (Date.now() > deadline) throw new Error("engine operation did not finish in time");
      await engine.reconcile();
    }

    // Baseline: the SDK's own loop at its default 2 s interval (in simulated seconds).
    const sdk = new ContainerServiceClient(staticCredential, SUB, {
      ...t.clientOptions,
      apiVersion: FLAVOR.containerServiceApiVersion,
    });
    await sdk.agentPools.createOrUpdate(
      RG,
      "bench-sdk",
      "katasdk",
      {
        vmSize: "Standard_D4s_v3",
        count: 1,
        mode: "User",
        osType: "Linux",
        osSKU: "AzureLinux",
        workloadRuntime: FLAVOR.workloadRuntime,
      },
      { updateIntervalInMs: 2000 * timeScale },
    );

    const ours = figures(t, "kataeng");
    const baseline = figures(t, "katasdk");
    return {
      engine: ours,
      sdkDefaultPolling: baseline,
      readsRatio: Math.round((baseline.armReadsPerOperation / ours.armReadsPerOperation) * 10) / 10,
      poolCreateSeconds,
      timeScale,
    };
  } finally {
    await Promise.all([azurite.stop(), t.close()]);
  }
}
