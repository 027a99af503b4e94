import type { Principal } from "../identity/principal.js";
import type { ClusterRef } from "../sandbox/clusterRef.js";
import { clusterSerialKey } from "../sandbox/clusterSerialKey.js";
import type { CreateClusterInput, DeleteClusterInput, EnableSandboxingInput } from "./kinds/clusterKinds.js";
import type { IsolationCheckInput } from "./kinds/isolationCheckKind.js";
import type { SandboxFeatureInput } from "./kinds/sandboxFeatureKind.js";
import type { SandboxPoolInput } from "./kinds/sandboxPoolKinds.js";
import type { OperationKindName, OperationRecord } from "./operation.js";
import type { SubmitRequest } from "./operationEngine.js";

/**
 * The input each operation kind stores in its row and its steps read
 * (`StepContext<OperationInputs[K]>`). A new kind adds its name to
 * `OPERATION_KINDS` (operation.ts) and its input here.
 */
export interface OperationInputs {
  CreateSandboxPool: SandboxPoolInput;
  DeleteSandboxPool: SandboxPoolInput;
  RegisterSandboxFeature: SandboxFeatureInput;
  IsolationCheck: IsolationCheckInput;
  CreateCluster: CreateClusterInput;
  DeleteCluster: DeleteClusterInput;
  EnableSandboxing: EnableSandboxingInput;
}

/** Every kind has an input type: a kind added to `OPERATION_KINDS` without one fails to compile here. */
export type OperationInputOf<K extends OperationKindName> = { [Name in OperationKindName]: OperationInputs[Name] }[K];

/** Who asks, and under which request id (passed on to ARM as the correlation id). */
export interface Caller {
  readonly principal: Principal;
  readonly requestId: string;
}

/**
 * What a use case that may start an operation answers: the work is already
 * done (`done`, with the body to show), an operation was started or found
 * running (`accepted`), or the target does not exist and nothing is to be
 * done (`absent`).
 */
export type UseCaseOutcome<T> =
  | { readonly type: "done"; readonly body: T }
  | { readonly type: "accepted"; readonly operation: OperationRecord }
  | { readonly type: "absent" };

/** The part of the engine that starts and reads operations. */
export interface OperationSubmitter {
  submit(request: SubmitRequest): Promise<OperationRecord>;
  get(id: string): Promise<OperationRecord | undefined>;
}

/**
 * Submits an operation on a cluster — queued behind our other operations on
 * that cluster (its serial key) — on behalf of the caller.
 */
export async function submitClusterOperation<K extends OperationKindName>(
  operations: OperationSubmitter,
  kind: K,
  cluster: ClusterRef,
  target: string,
  input: OperationInputs[K],
  caller: Caller,
): Promise<UseCaseOutcome<never>> {
  const operation = await operations.submit({
    kind,
    target,
    subscriptionId: cluster.subscriptionId,
    serialKey: clusterSerialKey(cluster),
    input,
    createdBy: caller.principal.id,
    team: caller.principal.team,
    correlationId: caller.requestId,
  });
  return { type: "accepted", operation };
}
