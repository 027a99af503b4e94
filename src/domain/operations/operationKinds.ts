import type { OperationKindName, OperationRecord } from "./operation.js";
import type { StepDefinition } from "./steps.js";

/** What {@link OperationKindDefinition.onEnded} sees: the ending operation and its input. */
export interface EndedContext<TInput extends object = object> {
  readonly operation: Readonly<OperationRecord>;
  readonly input: Readonly<TInput>;
}

/**
 * An operation kind: named steps run in order, a deadline, and how the
 * result is built. Issue-specific kinds (feature registration, clusters, …)
 * are defined as values of this type and registered in an
 * {@link OperationKindRegistry}.
 */
export interface OperationKindDefinition<TInput extends object = object> {
  readonly kind: OperationKindName;
  readonly steps: readonly StepDefinition<TInput>[];
  /** Service seconds from creation until the operation fails with `OperationTimedOut` (scaled in simulated mode). */
  readonly deadlineSeconds: number;
  /** The operation's `result` from the steps' data (default: the last step's result). */
  result?(data: Readonly<Record<string, unknown>>, input: Readonly<TInput>): unknown;
  /**
   * Gives back what the operation holds when it ends without running its
   * steps to the end: failed (a step's failure, `OperationTimedOut`) or
   * canceled. Runs in the tick that ends it, before the end is stored; a
   * retryable error thrown here makes the engine redo that tick later, so it
   * must be idempotent. Not called for `Succeeded` (the last steps clean up).
   */
  onEnded?(context: EndedContext<TInput>, status: "Failed" | "Canceled"): Promise<void>;
}

/** The kinds an engine knows. Registering a kind twice replaces it. */
export class OperationKindRegistry {
  readonly #kinds = new Map<string, OperationKindDefinition>();

  constructor(kinds: readonly OperationKindDefinition[] = []) {
    for (const k of kinds) this.register(k);
  }

  register(definition: OperationKindDefinition): this {
    if (definition.steps.length === 0) throw new Error(`operation kind ${definition.kind} has no steps`);
    const names = new Set(definition.steps.map((s) => s.name));
    if (names.size !== definition.steps.length)
      throw new Error(`operation kind ${definition.kind} has duplicate step names`);
    this.#kinds.set(definition.kind, definition);
    return this;
  }

  get(kind: string): OperationKindDefinition | undefined {
    return this.#kinds.get(kind);
  }

  kinds(): string[] {
    return [...this.#kinds.keys()];
  }
}
