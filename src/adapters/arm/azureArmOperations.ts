import { restorePoller, type ContainerServiceClient, type ManagedCluster } from "@azure/arm-containerservice";
import type { OperationState, PollerLike } from "@azure/core-lro";
import type {
  AgentPoolRef,
  AgentPoolState,
  ArmCallContext,
  ArmLroProgress,
  ArmLroRequest,
  ArmOperations,
} from "../../domain/operations/armOperations.js";
import type { ArmClientFactory, CapturedResponse } from "./armClients.js";
import { sendRawPutBody, withArmCallCapturing } from "./armClients.js";
import { managedClusterUpdateBody } from "./managedClusterDocument.js";
import { canonicalArmState } from "../../domain/sandbox/armState.js";
import { translateArmError } from "./armErrors.js";

type AnyPoller = PollerLike<OperationState<unknown>, unknown>;

function plain(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

function describe(request: ArmLroRequest): string {
  switch (request.kind) {
    case "agentPoolPut":
      return `the agent pool PUT of ${request.pool.clusterName}/${request.pool.poolName}`;
    case "agentPoolDelete":
      return `the agent pool DELETE of ${request.pool.clusterName}/${request.pool.poolName}`;
    case "managedClusterPut":
      return `the managed cluster PUT of ${request.cluster.clusterName}`;
    case "managedClusterDelete":
      return `the managed cluster DELETE of ${request.cluster.clusterName}`;
    case "managedClusterUpdate":
      return `the managed cluster update (GET, re-PUT) of ${request.cluster.clusterName}`;
  }
}

/**
 * {@link ArmOperations} with the Azure SDK (`@azure/arm-containerservice`
 * modular client, core-lro pollers): starts return the serialized poller
 * state; polls restore it with `restorePoller` into any client and call
 * `poll()` exactly once. `Retry-After` comes from the response headers of
 * the call (captured by the client factory's pipeline policy).
 */
export class AzureArmOperations implements ArmOperations {
  constructor(
    readonly clients: ArmClientFactory,
    /** Wall ms one ARM request may take before it counts as a timeout. Default 30 000. */
    readonly callTimeoutMs = 30_000,
  ) {}

  #start(client: ContainerServiceClient, request: ArmLroRequest, abortSignal: AbortSignal): AnyPoller {
    switch (request.kind) {
      case "agentPoolPut": {
        const { resourceGroup, clusterName, poolName } = request.pool;
        return client.agentPools.createOrUpdate(resourceGroup, clusterName, poolName, request.spec, { abortSignal });
      }
      case "agentPoolDelete": {
        const { resourceGroup, clusterName, poolName } = request.pool;
        return client.agentPools.delete(resourceGroup, clusterName, poolName, { abortSignal });
      }
      case "managedClusterPut": {
        const { resourceGroup, clusterName } = request.cluster;
        return client.managedClusters.createOrUpdate(
          resourceGroup,
          clusterName,
          request.body as unknown as ManagedCluster,
          { abortSignal },
        );
      }
      case "managedClusterDelete": {
        const { resourceGroup, clusterName } = request.cluster;
        return client.managedClusters.delete(resourceGroup, clusterName, { abortSignal });
      }
      case "managedClusterUpdate":
        throw new Error("managedClusterUpdate starts through #startUpdate");
    }
  }

  /**
   * `managedClusterUpdate`: the raw GET (its JSON text, not the SDK model),
   * then the SDK's createOrUpdate with that document as the body on the wire
   * ({@link sendRawPutBody}), so the SDK still runs the LRO.
   */
  async #startUpdate(
    client: ContainerServiceClient,
    request: Extract<ArmLroRequest, { kind: "managedClusterUpdate" }>,
    abortSignal: AbortSignal,
  ): Promise<{ poller: AnyPoller }> {
    const { resourceGroup, clusterName } = request.cluster;
    let document: Record<string, unknown> | undefined;
    let path = "";
    await client.managedClusters.get(resourceGroup, clusterName, {
      abortSignal,
      onResponse: (raw) => {
        path = new URL(raw.request.url).pathname;
        if (raw.status === 200 && raw.bodyAsText) document = JSON.parse(raw.bodyAsText) as Record<string, unknown>;
      },
    });
    if (!document) throw new Error(`the GET of ${clusterName} returned no document`);
    sendRawPutBody(path, managedClusterUpdateBody(document, request.addAgentPool));
    // The model given here is never serialized onto the wire: the raw document replaces it.
    // Wrapped: a PollerLike is thenable (see startLro).
    return {
      poller: client.managedClusters.createOrUpdate(
        resourceGroup,
        clusterName,
        { location: typeof document.location === "string" ? document.location : "" },
        { abortSignal },
      ),
    };
  }

  async #progress(poller: AnyPoller, responses: CapturedResponse[]): Promise<ArmLroProgress> {
    const state = poller.operationState;
    const last = responses.at(-1);
    const lro = [...responses].reverse().find((r) => r.lroStatus)?.lroStatus;
    const base = {
      ...(last?.retryAfterMs !== undefined ? { retryAfterMs: last.retryAfterMs } : {}),
      ...(lro?.percentComplete !== undefined ? { percentComplete: lro.percentComplete } : {}),
    };
    switch (state?.status) {
      case "succeeded":
        return { status: "succeeded", pollerState: undefined, result: plain(poller.result), ...base };
      case "failed":
      case "canceled":
        return { status: state.status, pollerState: undefined, error: errorOf(lro?.error, state.error), ...base };
      default:
        return { status: "running", pollerState: await poller.serialize(), ...base };
    }
  }

  async startLro(request: ArmLroRequest, call: ArmCallContext): Promise<ArmLroProgress> {
    const subscriptionId = request.kind.startsWith("agentPool")
      ? (request as { pool: AgentPoolRef }).pool.subscriptionId
      : (request as { cluster: { subscriptionId: string } }).cluster.subscriptionId;
    const client = this.clients.containerService(subscriptionId, request.apiVersion);
    // Wrapped in an object: a PollerLike is thenable, and returning it from an async function would poll it to the end.
    const outcome = await withArmCallCapturing(call.correlationId, async () => {
      const signal = AbortSignal.timeout(this.callTimeoutMs);
      const poller =
        request.kind === "managedClusterUpdate"
          ? (await this.#startUpdate(client, request, signal)).poller
          : this.#start(client, request, signal);
      await poller.submitted();
      return { poller };
    });
    if (outcome.error !== undefined || !outcome.value) throw translateArmError(outcome.error, describe(request));
    return this.#progress(outcome.value.poller, outcome.responses);
  }

  async pollLro(pollerState: string, call: ArmCallContext): Promise<ArmLroProgress> {
    const config = (
      JSON.parse(pollerState) as { state?: { config?: { initialRequestUrl?: string; requestMethod?: string } } }
    ).state?.config;
    const url = new URL(config?.initialRequestUrl ?? "https://invalid/");
    const subscriptionId = /\/subscriptions\/([^/]+)/i.exec(url.pathname)?.[1] ?? "unknown";
    const client = this.clients.containerService(subscriptionId, url.searchParams.get("api-version") ?? "");
    let restored: AnyPoller | undefined;
    const outcome = await withArmCallCapturing(call.correlationId, async () => {
      restored = restorePoller(client, pollerState, client.agentPools.createOrUpdate, {
        abortSignal: AbortSignal.timeout(this.callTimeoutMs),
      });
      await restored.poll();
      return { poller: restored };
    });
    if (outcome.error !== undefined) {
      // A RestError is the poll request itself failing (429, 5xx, reset): core-lro marks its state
      // failed then, but the Azure operation is unaffected, so it is retried, not reported.
      const callFailed = (outcome.error as { name?: string }).name === "RestError";
      const status = restored?.operationState?.status;
      if (!callFailed && restored && (status === "failed" || status === "canceled"))
        return this.#progress(restored, outcome.responses);
      throw translateArmError(outcome.error, `polling ${config?.requestMethod ?? ""} ${url.pathname}`.trim());
    }
    return this.#progress(outcome.value!.poller, outcome.responses);
  }

  async abortAgentPoolOperation(pool: AgentPoolRef, apiVersion: string, call: ArmCallContext): Promise<void> {
    const client = this.clients.containerService(pool.subscriptionId, apiVersion);
    const outcome = await withArmCallCapturing(call.correlationId, async () => {
      const poller = client.agentPools.abortLatestOperation(pool.resourceGroup, pool.clusterName, pool.poolName, {
        abortSignal: AbortSignal.timeout(this.callTimeoutMs),
      }) as AnyPoller;
      await poller.submitted();
      return { poller };
    });
    if (outcome.error !== undefined)
      throw translateArmError(outcome.error, `the abort of ${pool.clusterName}/${pool.poolName}`);
  }

  async getAgentPool(
    pool: AgentPoolRef,
    apiVersion: string,
    call: ArmCallContext,
  ): Promise<AgentPoolState | undefined> {
    const client = this.clients.containerService(pool.subscriptionId, apiVersion);
    const outcome = await withArmCallCapturing(call.correlationId, () =>
      client.agentPools.get(pool.resourceGroup, pool.clusterName, pool.poolName, {
        abortSignal: AbortSignal.timeout(this.callTimeoutMs),
      }),
    );
    if (outcome.error !== undefined) {
      if ((outcome.error as { statusCode?: number }).statusCode === 404) return undefined;
      throw translateArmError(outcome.error, `reading the agent pool ${pool.clusterName}/${pool.poolName}`);
    }
    const p = outcome.value!;
    return {
      provisioningState: canonicalArmState(p.provisioningState ?? "Succeeded"),
      vmSize: p.vmSize,
      count: p.count,
      workloadRuntime: canonicalArmState(p.workloadRuntime),
      osSKU: canonicalArmState(p.osSKU),
      mode: canonicalArmState(p.mode),
      resource: plain(p) as Record<string, unknown>,
    };
  }
}

function errorOf(
  lroError: { code?: string; message?: string } | undefined,
  stateError: Error | undefined,
): { code: string; message: string } {
  if (lroError?.code) return { code: lroError.code, message: lroError.message ?? lroError.code };
  const code = (stateError as { code?: string } | undefined)?.code;
  return { code: code ?? "OperationFailed", message: stateError?.message ?? "The Azure operation did not succeed." };
}
