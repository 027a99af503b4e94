import { clusterRefOf } from "../domain/sandbox/clusterRef.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";
import { outcomeResult } from "./operationResults.js";

/** Handlers of the isolation-check routes (`IsolationCheckService`). */
export function isolationCheckHandlers(services: ServicesSource<"isolationChecks" | "operations">) {
  /** `startIsolationCheck` (Submitter): 202 with an `IsolationCheck` operation; 409 `SandboxNotReady` without the RuntimeClass. */
  const startIsolationCheck: OperationHandler = async ({ params, principal, requestId }) => {
    const s = services();
    return outcomeResult(await s.isolationChecks.start(clusterRefOf(params), { principal, requestId }), s.operations);
  };

  return { startIsolationCheck };
}
