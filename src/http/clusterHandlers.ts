import type { AgentPoolRef } from "../domain/operations/armOperations.js";
import { clusterRefOf } from "../domain/sandbox/clusterRef.js";
import type { CreateClusterBody, EnableSandboxingBody } from "../domain/sandbox/clusterService.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";
import { outcomeResult } from "./operationResults.js";

/** The cluster's agent pool named by the route's path parameters. */
export function poolRefOf(params: Readonly<Record<string, string>>): AgentPoolRef {
  return { ...clusterRefOf(params), poolName: params.poolName ?? "" };
}

/** Handlers of the cluster routes (`ClusterService`); see the service for each use case's behaviour. */
export function clusterHandlers(services: ServicesSource<"clusters" | "operations">) {
  /** `createCluster`: 200 with the report (`?dryRun=true`) or the matching cluster's view; else 202 `CreateCluster`. */
  const createCluster: OperationHandler<CreateClusterBody> = async ({ params, query, body, principal, requestId }) => {
    const s = services();
    return outcomeResult(
      await s.clusters.create(clusterRefOf(params), body, query.dryRun === true, { principal, requestId }),
      s.operations,
    );
  };

  /** `getCluster`: the cluster view with sandbox pools, capacity and readiness. */
  const getCluster: OperationHandler = async ({ params, principal, requestId }) => ({
    status: 200,
    body: await services().clusters.get(clusterRefOf(params), { principal, requestId }),
  });

  /** `deleteCluster`: 202 `DeleteCluster`; 204 when it does not exist. */
  const deleteCluster: OperationHandler = async ({ params, principal, requestId }) => {
    const s = services();
    return outcomeResult(await s.clusters.delete(clusterRefOf(params), { principal, requestId }), s.operations);
  };

  /** `enableSandboxing`: 200 with the view when already enabled, else 202 `EnableSandboxing`. */
  const enableSandboxing: OperationHandler<EnableSandboxingBody | undefined> = async ({
    params,
    body,
    principal,
    requestId,
  }) => {
    const s = services();
    return outcomeResult(
      await s.clusters.enableSandboxing(clusterRefOf(params), body, { principal, requestId }),
      s.operations,
    );
  };

  return { createCluster, getCluster, deleteCluster, enableSandboxing };
}
