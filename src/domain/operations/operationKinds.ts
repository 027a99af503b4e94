import type { OperationKindName } from "./operation.js";
import type { StepDefinition } from "./steps.js";

/**
 * An operation kind: named steps run in order, a deadline, and how the
 * result is built. Issue-specific kinds (feature registration, clusters, …)
 * are defined as values of this type and registered in an
 * {@link OperationKindRegistry}.
 */
export interface OperationKindDefinition {
  readonly kind: OperationKindName;
  readonly steps: readonly StepDefinition[];
  /** Service seconds from creation until the operation fails with `OperationTimedOut` (scaled in simulated mode). */
  readonly deadlineSeconds: number;
  /** The operation's `result` from the steps' data (default: the last step's result). */
  result?(data: Readonly<Record<string, unknown>>, input: Readonly<Record<string, unknown>>): unknown;
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
    if (names.size !== definition.steps.length) throw new Error(`operation kind ${definition.kind} has duplicate step names`);
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
