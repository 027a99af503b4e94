import type { SandboxPoolBody } from "../domain/operations/kinds/sandboxPoolKinds.js";
import { clusterRefOf } from "../domain/sandbox/clusterRef.js";
import { poolRefOf } from "./clusterHandlers.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";
import { outcomeResult } from "./operationResults.js";

/** Handlers of the sandbox-pool routes (`SandboxPoolService`); see the service for each use case's behaviour. */
export function sandboxPoolHandlers(services: ServicesSource<"sandboxPools" | "operations">) {
  /** `putSandboxPool`: 200 with the report (`?dryRun=true`) or the unchanged pool; else 202 `CreateSandboxPool`. */
  const putSandboxPool: OperationHandler<SandboxPoolBody> = async ({ params, query, body, principal, requestId }) => {
    const s = services();
    return outcomeResult(
      await s.sandboxPools.put(poolRefOf(params), body, query.dryRun === true, { principal, requestId }),
      s.operations,
    );
  };

  /** `getSandboxPool`: the pool view with capacity. */
  const getSandboxPool: OperationHandler = async ({ params, principal, requestId }) => ({
    status: 200,
    body: await services().sandboxPools.get(poolRefOf(params), { principal, requestId }),
  });

  /** `listSandboxPools`: `{value}`, no paging. */
  const listSandboxPools: OperationHandler = async ({ params, principal, requestId }) => ({
    status: 200,
    body: { value: await services().sandboxPools.list(clusterRefOf(params), { principal, requestId }) },
  });

  /** `deleteSandboxPool`: 202 `DeleteSandboxPool`; 204 when the pool does not exist. */
  const deleteSandboxPool: OperationHandler = async ({ params, principal, requestId }) => {
    const s = services();
    return outcomeResult(await s.sandboxPools.delete(poolRefOf(params), { principal, requestId }), s.operations);
  };

  return { putSandboxPool, getSandboxPool, listSandboxPools, deleteSandboxPool };
}
