import type { Principal } from "../identity/principal.js";
import { authorizeOwnedResource, resourceNotFound, teamFilter } from "../policy/authorization.js";
import { isTerminal, type OperationKindName, type OperationRecord, type OperationStatus } from "./operation.js";
import type { OperationEngine, ReconcileReport } from "./operationEngine.js";

/** Filters of `listOperations`. */
export interface OperationListQuery {
  readonly status?: OperationStatus;
  readonly kind?: OperationKindName;
  readonly target?: string;
  readonly top: number;
  readonly continuationToken?: string;
}

/**
 * The operations use cases on behalf of a caller: the status monitor, the
 * list, cancel — each limited to what the caller's team may see — and the
 * reconcile pass of the timer.
 */
export class OperationService {
  readonly #engine: OperationEngine;

  constructor(engine: OperationEngine) {
    this.#engine = engine;
  }

  #visible(op: OperationRecord | undefined, id: string, principal: Principal): OperationRecord {
    const notFound = resourceNotFound("operation", id);
    if (!op) throw notFound;
    authorizeOwnedResource(principal, op.team, notFound);
    return op;
  }

  /** Seconds until the operation's next poll (1–60): its `Retry-After`. */
  retryAfterSeconds(op: OperationRecord): number {
    return this.#engine.retryAfterSeconds(op);
  }

  /**
   * `getOperation`: a due operation is advanced first (concurrent readers
   * share one ARM poll). Other teams' operations are 404 unless the caller is Admin.
   */
  async get(id: string, principal: Principal): Promise<OperationRecord> {
    const peek = this.#visible(await this.#engine.get(id), id, principal);
    return isTerminal(peek.status) ? peek : ((await this.#engine.get(id, { advanceIfDue: true })) ?? peek);
  }

  /** `listOperations`: non-admins see their team's operations only. */
  list(
    query: OperationListQuery,
    principal: Principal,
  ): Promise<{ items: OperationRecord[]; continuationToken?: string }> {
    const scope = teamFilter(principal);
    return this.#engine.list(
      {
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.kind !== undefined ? { kind: query.kind } : {}),
        ...(query.target !== undefined ? { target: query.target } : {}),
        ...(scope.allTeams ? {} : { team: scope.team }),
      },
      query.top,
      query.continuationToken,
    );
  }

  /**
   * `cancelOperation`: agent-pool operations are aborted at ARM (AKS
   * operation-abort); others stop after their current step. Terminal
   * operations → 409 `Conflict`.
   */
  async cancel(id: string, principal: Principal): Promise<OperationRecord> {
    this.#visible(await this.#engine.get(id), id, principal);
    return this.#engine.cancel(id);
  }

  /** One reconcile pass of the engine (the `reconcileOperations` timer). */
  reconcile(): Promise<ReconcileReport> {
    return this.#engine.reconcile();
  }
}
