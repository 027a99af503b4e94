import { randomUUID } from "node:crypto";
import type { RunningAzurite } from "../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "./testAzurite.js";
import { TableOperationStore } from "../../src/adapters/tables/operationTable.js";
import { ArmClientFactory } from "../../src/adapters/arm/armClients.js";
import { AzureArmOperations } from "../../src/adapters/arm/azureArmOperations.js";
import { OperationEngine, type EngineSettings } from "../../src/domain/operations/operationEngine.js";
import type { ArmCallBudget } from "../../src/domain/operations/armBudget.js";
import { OperationKindRegistry } from "../../src/domain/operations/operationKinds.js";
import { createSandboxPoolKind, deleteSandboxPoolKind } from "../../src/domain/operations/kinds/sandboxPoolKinds.js";
import { sandboxFlavor } from "../../src/domain/sandbox/sandboxFlavor.js";
import type { AgentPoolRef } from "../../src/domain/operations/armOperations.js";
import type { OperationRecord } from "../../src/domain/operations/operation.js";
import { armCall, SUB, staticCredential, startTestArm, waitUntil, type TestArm } from "./armTestSupport.js";
import type { ArmEmulatorSettings } from "../../src/emulators/arm/armEmulatorSettings.js";

export const FLAVOR = sandboxFlavor("preview");

/** Azurite + ARM emulator + real adapters, for engine tests. */
export interface EngineHarness {
  azurite: RunningAzurite;
  arm: TestArm;
  scale: number;
  /** A fresh table per call, so tests do not see each other's rows. */
  newStore(): TableOperationStore;
  newEngine(
    store: TableOperationStore,
    settings?: Partial<EngineSettings>,
    instanceId?: string,
    budget?: ArmCallBudget,
  ): OperationEngine;
  close(): Promise<void>;
}

export async function startEngineHarness(
  armSettings: Partial<ArmEmulatorSettings> = {},
  scale = 0.005,
): Promise<EngineHarness> {
  const [azurite, arm] = await Promise.all([
    startTestAzurite(),
    startTestArm({ poolCreateSeconds: 180, poolDeleteSeconds: 120, ...armSettings }, scale),
  ]);
  arm.arm.state.setFeatureState(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
  arm.arm.state.registerProvider(SUB, "Microsoft.ContainerService");
  await waitUntil(() => arm.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered");
  return {
    azurite,
    arm,
    scale,
    newStore: () =>
      new TableOperationStore(
        { connectionString: azurite.connectionString, allowInsecure: true },
        `ops${randomUUID().replace(/-/g, "").slice(0, 20)}`,
      ),
    newEngine(store, settings = {}, instanceId, budget) {
      const clients = new ArmClientFactory(
        { armEndpoint: arm.arm.url, simulate: true, simulatedCaCertPath: undefined, azureAuthorityHost: undefined },
        { credential: staticCredential, httpClient: arm.clientOptions.httpClient },
      );
      return new OperationEngine({
        store,
        arm: new AzureArmOperations(clients),
        kinds: new OperationKindRegistry([createSandboxPoolKind(), deleteSandboxPoolKind()]),
        settings: { scale, armBudgetPerMinute: 100_000, claimMs: 5000, passMs: 400, ...settings },
        ...(instanceId ? { instanceId } : {}),
        ...(budget ? { budget } : {}),
      });
    },
    async close() {
      await Promise.all([azurite.stop(), arm.close()]);
    },
  };
}

export function poolRef(cluster: string, pool: string, rg = "rg-ops"): AgentPoolRef {
  return { subscriptionId: SUB, resourceGroup: rg, clusterName: cluster, poolName: pool };
}

export function createPoolRequest(pool: AgentPoolRef, overrides: { count?: number; startNow?: boolean } = {}) {
  return {
    kind: "CreateSandboxPool" as const,
    target: `/subscriptions/${pool.subscriptionId}/resourceGroups/${pool.resourceGroup}/clusters/${pool.clusterName}/sandbox-pools/${pool.poolName}`,
    subscriptionId: pool.subscriptionId,
    serialKey: `/subscriptions/${pool.subscriptionId}/resourceGroups/${pool.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${pool.clusterName}`,
    input: {
      pool,
      spec: {
        vmSize: "Standard_D4s_v3",
        count: overrides.count ?? 1,
        mode: "User",
        osType: "Linux",
        osSKU: "AzureLinux",
        workloadRuntime: FLAVOR.workloadRuntime,
      },
      apiVersion: FLAVOR.containerServiceApiVersion,
    } as unknown as Record<string, unknown>,
    createdBy: "tester",
    team: "alpha",
    correlationId: randomUUID(),
    ...(overrides.startNow === false ? { startNow: false } : {}),
  };
}

/** Runs reconcile passes until every id is terminal (wall timeout). */
export async function reconcileUntilDone(
  engines: OperationEngine[],
  store: TableOperationStore,
  ids: string[],
  timeoutMs = 60_000,
): Promise<OperationRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ops = await Promise.all(ids.map(async (id) => (await store.get(id))!.record));
    if (ops.every((o) => ["Succeeded", "Failed", "Canceled"].includes(o.status))) return ops;
    if (Date.now() > deadline)
      throw new Error(
        `not terminal in time: ${ops
          .filter((o) => !["Succeeded", "Failed", "Canceled"].includes(o.status))
          .map((o) => `${o.id} ${o.status} ${JSON.stringify(o.steps)} ${JSON.stringify(o.lastError)}`)
          .slice(0, 5)
          .join("\n")}`,
      );
    await Promise.all(engines.map((e) => e.reconcile()));
  }
}

/** Creates the clusters `names` (one D4s_v3 system node each) in resource group `rg-ops` and waits until all are Succeeded. */
export async function readyClusters(h: EngineHarness, names: readonly string[]): Promise<void> {
  await armCall(h.arm, "PUT", `/subscriptions/${SUB}/resourcegroups/rg-ops?api-version=2025-04-01`, {
    location: "eastus",
  });
  await Promise.all(
    names.map((name) =>
      armCall(
        h.arm,
        "PUT",
        `/subscriptions/${SUB}/resourceGroups/rg-ops/providers/Microsoft.ContainerService/managedClusters/${name}?api-version=2026-10-01`,
        {
          location: "eastus",
          properties: {
            dnsPrefix: name,
            agentPoolProfiles: [
              { name: "system", count: 1, vmSize: "Standard_D4s_v3", mode: "System", osType: "Linux" },
            ],
          },
        },
      ),
    ),
  );
  await waitUntil(
    () => names.every((n) => h.arm.arm.state.cluster(SUB, "rg-ops", n)?.provisioningState === "Succeeded"),
    30_000,
  );
}
