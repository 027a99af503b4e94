import { randomBytes } from "node:crypto";
import { services } from "../composition.js";
import { prepareIsolationCheck } from "../domain/operations/kinds/isolationCheckKind.js";
import { sandboxFlavor } from "../domain/sandbox/sandboxFlavor.js";
import type { OperationHandler } from "./httpOperation.js";
import { clusterFromParams } from "./jobOperations.js";
import { acceptedOperation } from "./operationOperations.js";

/**
 * `startIsolationCheck` (Submitter): 202 with an `IsolationCheck` operation
 * whose result compares `uname -r` in a sandboxed and a trusted pod. A
 * cluster without the sandbox RuntimeClass answers 409 `SandboxNotReady`
 * before any pod is created.
 */
export const startIsolationCheck: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const request = await prepareIsolationCheck({
    principal,
    policy: s.policy,
    kubernetes: s.kubernetes,
    runtimeClassName: sandboxFlavor(s.configuration.flavor).runtimeClassName,
    cluster: clusterFromParams(params),
    requestId,
    unique: randomBytes(5).toString("hex"),
  });
  return acceptedOperation(await s.operations.submit(request));
};
