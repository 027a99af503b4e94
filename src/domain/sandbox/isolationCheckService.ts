import type { NamespaceContainment } from "../containment/namespaceContainment.js";
import type { JobSlotQuota } from "../jobs/jobSlotQuota.js";
import type { ClusterKubernetesFactory } from "../kubernetes/clusterKubernetes.js";
import { prepareIsolationCheck, type IsolationCheckInput } from "../operations/kinds/isolationCheckKind.js";
import type { Caller, OperationSubmitter, UseCaseOutcome } from "../operations/operationSubmission.js";
import type { SandboxPolicy } from "../policy/policy.js";
import type { ClusterRef } from "./clusterRef.js";
import type { ActiveOperationLookup } from "./sandboxPreflight.js";

export interface IsolationCheckServiceDependencies {
  readonly policy: SandboxPolicy;
  readonly kubernetes: ClusterKubernetesFactory;
  /** The flavour's RuntimeClass. */
  readonly runtimeClassName: string;
  readonly operations: Pick<OperationSubmitter, "submit">;
  /** A DNS-safe unique suffix (lower-case alphanumerics) per check, for its probe Jobs' names. */
  readonly unique: () => string;
  /** Contains the probes' namespace like a job's. */
  readonly containment?: NamespaceContainment;
  /** A check holds one of the team's job slots while it runs. */
  readonly slots?: JobSlotQuota;
  /** Refuses a second concurrent check of the same team on a cluster. */
  readonly activeOperations?: ActiveOperationLookup;
}

/** The isolation-check use case: prove a cluster's sandbox isolates (the `IsolationCheck` operation). */
export class IsolationCheckService {
  readonly #deps: IsolationCheckServiceDependencies;

  constructor(deps: IsolationCheckServiceDependencies) {
    this.#deps = deps;
  }

  /**
   * `startIsolationCheck` (Submitter): an `IsolationCheck` operation whose
   * result lists every containment probe (kernel, IMDS, wireserver, API
   * server, another namespace's pod, internet, service-account token, Pod
   * Security) with its verdict and evidence. A cluster without the sandbox
   * RuntimeClass answers 409 `SandboxNotReady` before any pod is created; a
   * check of the same team already running on the cluster 409 `Conflict`;
   * a team with no free job slot 429 `QuotaExceeded`.
   */
  async start(cluster: ClusterRef, caller: Caller): Promise<UseCaseOutcome<never>> {
    const request = await prepareIsolationCheck({
      principal: caller.principal,
      policy: this.#deps.policy,
      kubernetes: this.#deps.kubernetes,
      runtimeClassName: this.#deps.runtimeClassName,
      cluster,
      requestId: caller.requestId,
      unique: this.#deps.unique(),
      ...(this.#deps.containment ? { containment: this.#deps.containment } : {}),
      ...(this.#deps.slots ? { slots: this.#deps.slots } : {}),
      ...(this.#deps.activeOperations ? { activeOperations: this.#deps.activeOperations } : {}),
    });
    try {
      return { type: "accepted", operation: await this.#deps.operations.submit(request) };
    } catch (error) {
      // No operation row: nothing would ever give the slot back.
      const { team, slotId } = request.input as IsolationCheckInput;
      if (slotId) await this.#deps.slots?.releaseJobSlot(team, slotId).catch(() => undefined);
      throw error;
    }
  }
}
