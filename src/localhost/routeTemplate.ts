/**
 * Azure Functions (ASP.NET-style) route templates: literal segments,
 * `{name}`, optional `{name?}`, catch-all `{*name}`, and inline constraints
 * `{name:int}`, `:alpha`, `:bool`, `:guid`, `:long`, `:length(n)`,
 * `:length(min,max)`, `:minlength(n)`, `:maxlength(n)`, `:min(n)`, `:max(n)`,
 * `:regex(expr)`. Matching is case-insensitive for literals, as in the host.
 */
export interface CompiledRoute {
  readonly template: string;
  readonly parameterNames: readonly string[];
  /** Number of literal segments: more literals win when two routes match. */
  readonly specificity: number;
  match(path: string): Record<string, string> | undefined;
}

type Constraint = (value: string) => boolean;

function constraintFor(spec: string, template: string): Constraint {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/.exec(spec);
  if (!m) throw new Error(`Route "${template}": bad constraint "${spec}"`);
  const [, name, arg] = m as unknown as [string, string, string | undefined];
  const nums = (arg ?? "").split(",").map((n) => Number(n.trim()));
  switch (name.toLowerCase()) {
    case "int":
      return (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 2 ** 31;
    case "long":
      return (v) => /^-?\d+$/.test(v);
    case "bool":
      return (v) => /^(true|false)$/i.test(v);
    case "alpha":
      return (v) => /^[a-z]+$/i.test(v);
    case "guid":
      return (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
    case "length":
      return nums.length === 2 ? (v) => v.length >= nums[0]! && v.length <= nums[1]! : (v) => v.length === nums[0];
    case "minlength":
      return (v) => v.length >= nums[0]!;
    case "maxlength":
      return (v) => v.length <= nums[0]!;
    case "min":
      return (v) => /^-?\d+$/.test(v) && Number(v) >= nums[0]!;
    case "max":
      return (v) => /^-?\d+$/.test(v) && Number(v) <= nums[0]!;
    case "regex": {
      const re = new RegExp(arg ?? "", "i");
      return (v) => re.test(v);
    }
    default:
      throw new Error(`Route "${template}": unsupported constraint "${name}"`);
  }
}

interface ParameterSegment {
  star: boolean;
  name: string;
  optional: boolean;
  specs: string[];
}

/** Parses `{*name}`, `{name?}`, `{name:c1:c2(arg)?}`; undefined for a literal segment. */
function parseParameterSegment(segment: string, template: string): ParameterSegment | undefined {
  if (!segment.startsWith("{") || !segment.endsWith("}")) return undefined;
  let inner = segment.slice(1, -1);
  const star = inner.startsWith("*");
  if (star) inner = inner.slice(1);
  const optional = inner.endsWith("?");
  if (optional) inner = inner.slice(0, -1);
  // Split on ':' outside parentheses (regex constraints may contain ':').
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of inner) {
    if (ch === "(") depth += 1;
    if (ch === ")") depth -= 1;
    if (ch === ":" && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  const [name, ...specs] = parts;
  if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`Route "${template}": bad parameter "${segment}"`);
  return { star, name, optional, specs };
}

/** Compiles a route template (without the route prefix). Throws on a malformed template. */
export function compileRouteTemplate(template: string): CompiledRoute {
  const segments = template
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .filter((s) => s.length > 0);
  const parameterNames: string[] = [];
  const constraints = new Map<string, Constraint[]>();
  let pattern = "^";
  let specificity = 0;
  segments.forEach((segment, index) => {
    const param = parseParameterSegment(segment, template);
    if (!param) {
      if (/[{}]/.test(segment)) throw new Error(`Route "${template}": unsupported segment "${segment}"`);
      pattern += `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
      specificity += 1;
      return;
    }
    const { star, name, optional, specs } = param;
    parameterNames.push(name);
    constraints.set(
      name,
      specs.map((s) => constraintFor(s, template)),
    );
    if (star) {
      if (index !== segments.length - 1) throw new Error(`Route "${template}": catch-all must be last`);
      pattern += `(?:/(?<${name}>.*))?`;
    } else if (optional) {
      pattern += `(?:/(?<${name}>[^/]+))?`;
    } else {
      pattern += `/(?<${name}>[^/]+)`;
    }
  });
  pattern += "/?$";
  const regex = new RegExp(pattern, "i");
  return {
    template,
    parameterNames,
    specificity,
    match(path: string): Record<string, string> | undefined {
      const m = regex.exec(path === "" ? "/" : path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      for (const name of parameterNames) {
        const raw = m.groups?.[name];
        if (raw === undefined) continue;
        let value: string;
        try {
          value = decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (!(constraints.get(name) ?? []).every((check) => check(value))) return undefined;
        params[name] = value;
      }
      return params;
    },
  };
}
