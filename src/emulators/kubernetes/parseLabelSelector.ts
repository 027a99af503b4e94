import { KubernetesApiError } from "./kubernetesApiError.js";

/**
 * Label selectors as the `labelSelector` query parameter spells them:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a`
 * (does not exist), joined by commas. Every term must hold.
 */
export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

type Term =
  | { op: "eq" | "neq"; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: Set<string> }
  | { op: "exists" | "notexists"; key: string };

/** Splits on commas that are not inside `( … )`. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out.map((t) => t.trim()).filter((t) => t !== "");
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;

/**
 * Parses a `labelSelector` string into a matcher. An empty or absent selector
 * matches everything. Throws a 400 BadRequest `KubernetesApiError` (as the
 * apiserver does) on syntax errors.
 */
export function parseLabelSelector(text: string | null | undefined): LabelMatcher {
  if (!text) return () => true;
  const terms: Term[] = [];
  for (const raw of splitTerms(text)) {
    let m: RegExpMatchArray | null;
    if ((m = raw.match(new RegExp(`^(${KEY})\\s+(in|notin)\\s+\\(([^)]*)\\)$`)))) {
      const values = new Set(
        (m[4] ?? "")
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== ""),
      );
      terms.push({ op: m[3] === "in" ? "in" : "notin", key: m[1] ?? "", values });
    } else if ((m = raw.match(new RegExp(`^(${KEY})\\s*(==|!=|=)\\s*([-A-Za-z0-9_.]*)$`)))) {
      terms.push({ op: m[3] === "!=" ? "neq" : "eq", key: m[1] ?? "", value: m[4] ?? "" });
    } else if ((m = raw.match(new RegExp(`^!\\s*(${KEY})$`)))) {
      terms.push({ op: "notexists", key: m[1] ?? "" });
    } else if ((m = raw.match(new RegExp(`^(${KEY})$`)))) {
      terms.push({ op: "exists", key: m[1] ?? "" });
    } else {
      throw KubernetesApiError.badRequest(
        `unable to parse requirement: found '${raw}', expected: in, notin, =, ==, !=, gt, lt`,
      );
    }
  }
  return (labels) => {
    const l = labels ?? {};
    return terms.every((t) => {
      const has = Object.prototype.hasOwnProperty.call(l, t.key);
      const value = l[t.key];
      switch (t.op) {
        case "eq":
          return has && value === t.value;
        case "neq":
          return !has || value !== t.value;
        case "in":
          return has && t.values.has(value ?? "");
        case "notin":
          return !has || !t.values.has(value ?? "");
        case "exists":
          return has;
        case "notexists":
          return !has;
      }
    });
  };
}

/**
 * Field selectors (`fieldSelector`): comma-joined `path=value`, `path==value`
 * or `path!=value` terms over dotted paths such as `metadata.name`,
 * `status.phase`, `spec.nodeName` or `involvedObject.name`. Throws 400 on
 * syntax errors.
 */
export function parseFieldSelector(text: string | null | undefined): (object: unknown) => boolean {
  if (!text) return () => true;
  const terms = splitTerms(text).map((raw) => {
    const m = raw.match(/^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$/);
    if (!m) throw KubernetesApiError.badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
    return { path: (m[1] ?? "").split("."), negate: m[2] === "!=", value: m[3] ?? "" };
  });
  return (object) =>
    terms.every((t) => {
      let current: unknown = object;
      for (const part of t.path)
        current = current && typeof current === "object" ? (current as Record<string, unknown>)[part] : undefined;
      const actual =
        typeof current === "string" || typeof current === "number" || typeof current === "boolean"
          ? String(current)
          : "";
      return t.negate ? actual !== t.value : actual === t.value;
    });
}
