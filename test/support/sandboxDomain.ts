import type { JobSlotQuota } from "../../src/domain/jobs/jobService.js";
import {
  createClusterKind,
  deleteClusterKind,
  enableSandboxingKind,
  runtimeClassOrEnableSandboxingSteps,
} from "../../src/domain/operations/kinds/clusterKinds.js";
import { isolationCheckKind } from "../../src/domain/operations/kinds/isolationCheckKind.js";
import { registerSandboxFeatureKind } from "../../src/domain/operations/kinds/sandboxFeatureKind.js";
import { createSandboxPoolKind, deleteSandboxPoolKind } from "../../src/domain/operations/kinds/sandboxPoolKinds.js";
import type { OperationRecord } from "../../src/domain/operations/operation.js";
import { OperationEngine, type SubmitRequest } from "../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../src/domain/operations/operationKinds.js";
import type { OperationSubmitter } from "../../src/domain/operations/operationSubmission.js";
import { SandboxError } from "../../src/domain/sandboxError.js";
import type { ClusterRef } from "../../src/domain/sandbox/clusterRef.js";
import type { ManagedClusterState } from "../../src/domain/sandbox/sandboxArm.js";
import { sandboxFlavor, type SandboxFlavorNames } from "../../src/domain/sandbox/sandboxFlavor.js";
import { activeOperationLookup, type ActiveOperationLookup } from "../../src/domain/sandbox/sandboxPreflight.js";
import { FakeArmOperations } from "./fakes/fakeArmOperations.js";
import { FakeClusterKubernetesFactory } from "./fakes/fakeClusterKubernetes.js";
import { FakeSandboxArm } from "./fakes/fakeSandboxArm.js";
import { InMemoryOperationStore } from "./fakes/inMemoryOperationStore.js";

/** Typed in-memory {@link JobSlotQuota}: at most `limit` slots per team. */
export class FakeJobSlots implements JobSlotQuota {
  readonly held = new Map<string, Set<string>>();
  constructor(public limit = 3) {}

  async reserveJobSlot(team: string, jobId: string): Promise<void> {
    const slots = this.held.get(team) ?? new Set<string>();
    if (!slots.has(jobId) && slots.size >= this.limit)
      throw new SandboxError("QuotaExceeded", `Team "${team}" has no free job slot.`, { retryAfterSeconds: 30 });
    slots.add(jobId);
    this.held.set(team, slots);
  }

  async releaseJobSlot(team: string, jobId: string): Promise<boolean> {
    return this.held.get(team)?.delete(jobId) ?? false;
  }
}

/** The engine as a submitter that records each request; submitted operations wait for the reconciler (`startNow: false`). */
export class RecordingSubmitter implements OperationSubmitter {
  readonly requests: SubmitRequest[] = [];
  readonly canceled: string[] = [];
  constructor(readonly engine: OperationEngine) {}

  submit(request: SubmitRequest): Promise<OperationRecord> {
    this.requests.push(request);
    return this.engine.submit({ ...request, startNow: false });
  }

  get(id: string): Promise<OperationRecord | undefined> {
    return this.engine.get(id);
  }

  cancel(id: string): Promise<OperationRecord> {
    this.canceled.push(id);
    return this.engine.cancel(id);
  }
}

/**
 * The sandbox domain on typed fakes of its ports — ARM (sync and LRO), Kubernetes, the operation store, job
 * slots — with a real {@link OperationEngine} on a fake clock: no Azurite, no emulator, no network.
 */
export function sandboxDomain(flavorName: "preview" | "ga" = "preview") {
  const clock = { now: Date.parse("2026-01-01T00:00:00Z") };
  const now = (): number => clock.now;
  const flavor: SandboxFlavorNames = sandboxFlavor(flavorName);
  const sandboxArm = new FakeSandboxArm();
  const armOperations = new FakeArmOperations();
  const kubernetes = new FakeClusterKubernetesFactory();
  const slots = new FakeJobSlots();
  const store = new InMemoryOperationStore();
  const clusterDeps = { arm: sandboxArm, kubernetes, flavor };
  const engine = new OperationEngine({
    store,
    arm: armOperations,
    kinds: new OperationKindRegistry([
      createSandboxPoolKind(runtimeClassOrEnableSandboxingSteps(clusterDeps)),
      deleteSandboxPoolKind(),
      isolationCheckKind({ kubernetes, slots }),
      registerSandboxFeatureKind({ arm: sandboxArm, flavor, now }),
      createClusterKind(clusterDeps),
      deleteClusterKind(clusterDeps),
      enableSandboxingKind(clusterDeps),
    ]),
    instanceId: "unit",
    now,
    // Sleeping moves the fake clock: a reconcile pass ends when its time is up.
    sleep: async (ms) => {
      clock.now += ms;
    },
    random: () => 0.5,
  });
  const activeOperations: ActiveOperationLookup = activeOperationLookup(store);
  return {
    clock,
    now,
    flavor,
    sandboxArm,
    armOperations,
    kubernetes,
    slots,
    store,
    engine,
    submitter: new RecordingSubmitter(engine),
    activeOperations,
  };
}

/** A Succeeded cluster as ARM shows it: `pools` as [name, vmSize, workloadRuntime] (one node each). */
export function clusterState(
  ref: ClusterRef,
  pools: readonly (readonly [name: string, vmSize: string, workloadRuntime: string | undefined])[],
  extra: Partial<ManagedClusterState> = {},
): ManagedClusterState {
  return {
    id: `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${ref.clusterName}`,
    name: ref.clusterName,
    location: "eastus",
    kubernetesVersion: "1.33.5",
    provisioningState: "Succeeded",
    pools: pools.map(([name, vmSize, workloadRuntime], i) => ({
      provisioningState: "Succeeded",
      vmSize,
      count: 1,
      workloadRuntime,
      osSKU: "AzureLinux",
      mode: i === 0 ? "System" : "User",
      resource: { name, vmSize, count: 1, workloadRuntime, osSKU: "AzureLinux", mode: i === 0 ? "System" : "User" },
    })),
    resource: { name: ref.clusterName, location: "eastus" },
    ...extra,
  };
}
