import type {
  AgentPoolRef,
  AgentPoolState,
  ArmCallContext,
  ArmLroProgress,
  ArmLroRequest,
  ArmOperations,
} from "../../../src/domain/operations/armOperations.js";

/**
 * Typed in-memory {@link ArmOperations} for domain unit tests: each started LRO answers `running` for
 * `pollsBeforeDone` polls, then `succeeded` (or the scripted `outcome`). Poller state is plain JSON, as the
 * SDK's serialized state is, so the engine can store and resume it.
 */
export class FakeArmOperations implements ArmOperations {
  pollsBeforeDone = 1;
  outcome: Pick<ArmLroProgress, "status" | "error" | "result"> = { status: "succeeded" };
  readonly pools = new Map<string, AgentPoolState>();
  readonly started: ArmLroRequest[] = [];
  readonly calls: Array<{ method: string; correlationId: string }> = [];

  async startLro(request: ArmLroRequest, call: ArmCallContext): Promise<ArmLroProgress> {
    this.calls.push({ method: "startLro", correlationId: call.correlationId });
    this.started.push(request);
    return { status: "running", pollerState: JSON.stringify({ lro: this.started.length, polls: 0 }) };
  }

  async pollLro(pollerState: string, call: ArmCallContext): Promise<ArmLroProgress> {
    this.calls.push({ method: "pollLro", correlationId: call.correlationId });
    const state = JSON.parse(pollerState) as { lro: number; polls: number };
    const polls = state.polls + 1;
    if (polls < this.pollsBeforeDone) return { status: "running", pollerState: JSON.stringify({ ...state, polls }) };
    return { ...this.outcome, pollerState: undefined };
  }

  async abortAgentPoolOperation(_pool: AgentPoolRef, _apiVersion: string, call: ArmCallContext): Promise<void> {
    this.calls.push({ method: "abortAgentPoolOperation", correlationId: call.correlationId });
  }

  async getAgentPool(pool: AgentPoolRef, _apiVersion: string, call: ArmCallContext) {
    this.calls.push({ method: "getAgentPool", correlationId: call.correlationId });
    return this.pools.get(`${pool.subscriptionId}/${pool.resourceGroup}/${pool.clusterName}/${pool.poolName}`);
  }
}
