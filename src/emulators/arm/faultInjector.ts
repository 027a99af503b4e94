import { randomUUID } from "node:crypto";

/** What a matching fault rule does to a request. */
export type FaultAction =
  /** Answer 429 with `Retry-After` (simulated seconds, scaled like every delay; default 10). */
  | { status: 429; retryAfterSeconds?: number }
  /** Answer 500 / 503 with an ARM error body. */
  | { status: 500 | 503; code?: string; message?: string }
  /** Destroy the connection without an answer. */
  | { reset: true }
  /** Delay the answer by this many **wall** milliseconds, then handle normally. */
  | { latencyMs: number }
  /** Handle normally, but make the long-running operation the request starts end `Failed` with this error. */
  | { failLro: { code: string; message: string } };

/** A fault rule. Rules are checked in insertion order; the first that matches and fires wins. */
export interface FaultRule {
  /** HTTP method to match (case-insensitive); any when omitted. */
  method?: string;
  /**
   * Path to match (without query). A string starting with `^` is a regular
   * expression (case-insensitive); any other string is a template where
   * `{name}` matches one segment and `*` anything, e.g.
   * `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{c}/agentPools/*`.
   */
  pathPattern: string | RegExp;
  /** Fire at most this many times (default: unlimited). */
  times?: number;
  /** Chance in [0, 1] that a matching request fires the rule (default 1). */
  probability?: number;
  action: FaultAction;
}

/** A rule as stored, with its id and how often it fired. */
export interface ActiveFaultRule extends FaultRule {
  id: string;
  fired: number;
}

function toRegExp(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp)
    return new RegExp(pattern.source, pattern.flags.includes("i") ? pattern.flags : pattern.flags + "i");
  if (pattern.startsWith("^")) return new RegExp(pattern, "i");
  const escaped = pattern
    .split(/(\{[^}]+\}|\*)/)
    .map((part) =>
      part === "*" ? ".*" : /^\{[^}]+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${escaped}$`, "i");
}

function isValidAction(a: unknown): a is FaultAction {
  if (!a || typeof a !== "object") return false;
  const o = a as Record<string, unknown>;
  if (o.status === 429) return o.retryAfterSeconds === undefined || typeof o.retryAfterSeconds === "number";
  if (o.status === 500 || o.status === 503) return true;
  if (o.reset === true) return true;
  if (typeof o.latencyMs === "number" && o.latencyMs >= 0) return true;
  const f = o.failLro as Record<string, unknown> | undefined;
  return !!f && typeof f.code === "string" && typeof f.message === "string";
}

/**
 * The emulator's fault rules. Programmatic (tests) and behind
 * `/_emulator/faults` (people, benchmarks).
 */
export class FaultInjector {
  readonly #rules: { rule: ActiveFaultRule; regexp: RegExp }[] = [];

  /**
   * Adds a rule and returns its id. Throws `TypeError` on a malformed rule
   * (the HTTP surface turns that into a 400).
   */
  add(rule: FaultRule): string {
    if (!rule || (typeof rule.pathPattern !== "string" && !(rule.pathPattern instanceof RegExp)))
      throw new TypeError("pathPattern is required");
    if (!isValidAction(rule.action))
      throw new TypeError(
        "action must be {status:429,retryAfterSeconds?} | {status:500|503} | {reset:true} | {latencyMs} | {failLro:{code,message}}",
      );
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1))
      throw new TypeError("probability must be in [0, 1]");
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0))
      throw new TypeError("times must be a non-negative integer");
    const id = randomUUID();
    this.#rules.push({ rule: { ...rule, id, fired: 0 }, regexp: toRegExp(rule.pathPattern) });
    return id;
  }

  /** Removes one rule; true when it existed. */
  remove(id: string): boolean {
    const i = this.#rules.findIndex((r) => r.rule.id === id);
    if (i < 0) return false;
    this.#rules.splice(i, 1);
    return true;
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** The rules with their fire counts (patterns rendered as strings). */
  list(): ActiveFaultRule[] {
    return this.#rules.map(({ rule }) => ({ ...rule, pathPattern: String(rule.pathPattern) }));
  }

  /**
   * The first rule of the given kind that matches and fires for this request
   * (counting it), or undefined. `failLro` rules are matched separately
   * (`kind: "lro"`) when an operation starts, so they do not shadow
   * request-level faults.
   */
  match(method: string, path: string, kind: "request" | "lro"): ActiveFaultRule | undefined {
    for (const { rule, regexp } of this.#rules) {
      const isLro = "failLro" in rule.action;
      if ((kind === "lro") !== isLro) continue;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!regexp.test(path)) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (rule.probability !== undefined && Math.random() >= rule.probability) continue;
      rule.fired++;
      return rule;
    }
    return undefined;
  }
}
