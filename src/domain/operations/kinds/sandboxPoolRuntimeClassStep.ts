import type { ClusterKubernetesFactory } from "../../kubernetes/clusterKubernetes.js";
import type { ClusterRef } from "../armOperations.js";
import { waitForStep, type StepContext, type StepDefinition } from "../steps.js";

/** Dependencies of {@link waitForRuntimeClassStep}. */
export interface RuntimeClassWaitDependencies {
  readonly kubernetes: ClusterKubernetesFactory;
  /** The flavour's RuntimeClass (`kata-mshv-vm-isolation` / `kata-vm-isolation`). */
  readonly runtimeClassName: string;
}

/** The cluster of an operation whose input carries `pool` (pool kinds) or `cluster` (cluster kinds). */
export function clusterOfInput(context: StepContext): ClusterRef {
  const input = context.input as { pool?: ClusterRef; cluster?: ClusterRef };
  const ref = input.cluster ?? input.pool;
  if (!ref) throw new Error("operation input names no cluster");
  return { subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, clusterName: ref.clusterName };
}

/** Options of {@link waitForRuntimeClassStep}. */
export interface RuntimeClassWaitOptions {
  /**
   * Stop waiting after this many looks without the class and finish with
   * `runtimeClassMissing: true` in the data (so a later step can run the
   * enable-sandboxing update). Default: wait until the deadline.
   */
  readonly giveUpAfterChecks?: number;
}

/**
 * Step `WaitForRuntimeClass`: reads the flavour's RuntimeClass through the
 * cluster's Kubernetes API (credentials from listClusterUserCredential, kept
 * in memory only) until it exists. AKS installs it once a pool with the
 * sandbox workload runtime is up. Checks every 5 service seconds at first,
 * growing to 60 s; it never writes. Its data is `runtimeClass {name, handler}`.
 */
export function waitForRuntimeClassStep(
  deps: RuntimeClassWaitDependencies,
  name = "WaitForRuntimeClass",
  options: RuntimeClassWaitOptions = {},
): StepDefinition {
  return waitForStep({
    name,
    intervalSeconds: 5,
    maxIntervalSeconds: 60,
    async check(context) {
      const cluster = clusterOfInput(context);
      const kube = await deps.kubernetes.forCluster(cluster);
      const rc = await kube.getRuntimeClass(deps.runtimeClassName);
      if (rc)
        return {
          done: true,
          data: { runtimeClass: { name: rc.name, handler: rc.handler }, runtimeClassMissing: false },
        };
      const checks = (context.state as { checks?: number }).checks ?? 0;
      if (options.giveUpAfterChecks !== undefined && checks + 1 >= options.giveUpAfterChecks) {
        return {
          done: true,
          message: `RuntimeClass ${deps.runtimeClassName} did not appear in cluster ${cluster.clusterName}`,
          data: { runtimeClassMissing: true },
        };
      }
      return {
        done: false,
        message: `Waiting for RuntimeClass ${deps.runtimeClassName} to appear in cluster ${cluster.clusterName}`,
      };
    },
  });
}
