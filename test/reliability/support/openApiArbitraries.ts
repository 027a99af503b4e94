// fast-check arbitraries generated from openapi/openapi.json: for every
// operation, requests that follow the document (with realistic values mixed
// in) and requests broken in exactly one way the document forbids. A broken
// request is tagged with why it is invalid, so the fuzzer can demand a 4xx and
// no upstream call for it. Written here rather than taken from a library: the
// only JSON-Schema→fast-check package on the registry (json-schema-fast-check
// 0.0.6) predates fast-check 4 and OpenAPI 3.1.
import fc from "fast-check";
import type { OpenAPIV3_1 } from "openapi-types";
import { openApiDocument, openApiOperations, type OperationEntry } from "../../../src/http/openApiDocument.js";

type Schema = OpenAPIV3_1.SchemaObject & { $ref?: string; propertyNames?: Schema; examples?: unknown[] };

/** One generated request. */
export interface FuzzRequest {
  operationId: string;
  method: string;
  /** Path relative to the API root (`/v1` stripped), query included. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Which caller's token to send (a key of the fuzzer's token table). */
  token: string;
  /** Set when the request is certainly invalid by the document: what was broken. */
  invalid?: string;
}

/** Values the fuzzer knows exist (so valid requests reach real work), by parameter or property name. */
export type Fixtures = Readonly<Record<string, readonly string[]>>;

/** Tokens the fuzzer can send: valid callers and invalid credentials. */
export interface TokenKinds {
  valid: readonly string[];
  invalid: readonly string[];
}

const doc = openApiDocument();

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  let node: unknown = doc;
  for (const part of schema.$ref.replace(/^#\//, "").split("/")) node = (node as Record<string, unknown>)[part];
  return resolve(node as Schema);
}

/** A value the schema accepts (bounded sizes: arrays ≤ 4 items, objects ≤ 4 extra keys). */
export function valueOf(raw: Schema, fixtures: Fixtures, name = ""): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  const known = fixtures[name];
  const generic = genericValueOf(schema, fixtures);
  if (known && known.length > 0)
    return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generic });
  return generic;
}

function genericValueOf(schema: Schema, fixtures: Fixtures): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string": {
      if (schema.format === "date-time")
        return fc
          .date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString());
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 40, 80);
      if (schema.pattern) {
        return fc
          .stringMatching(new RegExp(schema.pattern))
          .filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
      }
      return fc.string({ minLength: min, maxLength: Math.max(min, max), unit: "grapheme-ascii" });
    }
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
    case "number":
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(valueOf((schema as { items?: Schema }).items ?? {}, fixtures), {
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries(properties)) record[key] = valueOf(sub, fixtures, key);
      const fixed = fc.record(record, { requiredKeys: [...required].filter((k) => k in properties) });
      const extra = schema.additionalProperties;
      if (!extra || typeof extra !== "object") return fixed;
      const keyArb = schema.propertyNames?.pattern
        ? fc.stringMatching(new RegExp(schema.propertyNames.pattern)).filter((k) => k.length <= 256)
        : fc.string({ minLength: 1, maxLength: 20 });
      const extras = fc.dictionary(keyArb, valueOf(extra as Schema, fixtures), {
        maxKeys: Math.min(schema.maxProperties ?? 4, 4),
      });
      return fc.tuple(fixed, extras).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value the schema certainly rejects, with what was broken (undefined when the schema accepts anything). */
function brokenValueOf(
  raw: Schema,
  asText = false,
  pathSegment = false,
): fc.Arbitrary<{ value: unknown; why: string }> | undefined {
  const schema = resolve(raw);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const options: fc.Arbitrary<{ value: unknown; why: string }>[] = [];
  const wrongType = (why: string, arb: fc.Arbitrary<unknown>) => options.push(arb.map((value) => ({ value, why })));
  if (type === "string") {
    // In a path or query string every value is text, so a number is no type error there.
    if (!asText) wrongType("string field given a number", fc.integer());
    if (schema.maxLength !== undefined)
      wrongType("string longer than maxLength", fc.constant("x".repeat(schema.maxLength + 1)));
    // An empty path segment addresses another route (`…/pools/` is the list), so only in bodies and queries.
    if (schema.minLength && !pathSegment) wrongType("string shorter than minLength", fc.constant(""));
    if (schema.enum) wrongType("value outside the enum", fc.constant("not-in-enum-Ω"));
  } else if (type === "integer") {
    wrongType(
      "integer field given a string",
      fc.string({ minLength: 1, maxLength: 5 }).map((s) => `x${s}`),
    );
    wrongType("integer field given a fraction", fc.constant(1.5));
    if (schema.maximum !== undefined)
      wrongType("integer above maximum", fc.integer({ min: schema.maximum + 1, max: schema.maximum + 1_000_000 }));
    if (schema.minimum !== undefined)
      wrongType("integer below minimum", fc.integer({ min: schema.minimum - 1_000_000, max: schema.minimum - 1 }));
  } else if (type === "boolean") {
    wrongType("boolean field given a string", fc.constantFrom("yes", "maybe"));
  } else if (type === "array") {
    wrongType("array field given an object", fc.constant({ a: 1 }));
  } else if (type === "object") {
    wrongType("object field given an array", fc.constant([1, 2]));
  }
  return options.length > 0 ? fc.oneof(...options) : undefined;
}

/** A JSON body for the operation's schema, broken in exactly one way. */
function brokenBodyOf(schema: Schema, fixtures: Fixtures): fc.Arbitrary<{ value: unknown; why: string }> {
  const resolved = resolve(schema);
  const properties = (resolved.properties ?? {}) as Record<string, Schema>;
  const base = valueOf(resolved, fixtures) as fc.Arbitrary<Record<string, unknown>>;
  const options: fc.Arbitrary<{ value: unknown; why: string }>[] = [
    fc.constantFrom<unknown>([], "text", 42, null, true).map((value) => ({ value, why: "body is not an object" })),
  ];
  if (resolved.additionalProperties === false) {
    options.push(base.map((b) => ({ value: { ...b, "zz-unknown": 1 }, why: "unknown body property" })));
  }
  for (const key of resolved.required ?? []) {
    options.push(
      base.map((b) => ({
        value: Object.fromEntries(Object.entries(b).filter(([k]) => k !== key)),
        why: `required ${key} missing`,
      })),
    );
  }
  for (const [key, sub] of Object.entries(properties)) {
    const broken = brokenValueOf(sub);
    if (broken)
      options.push(
        fc.tuple(base, broken).map(([b, x]) => ({ value: { ...b, [key]: x.value }, why: `body.${key}: ${x.why}` })),
      );
  }
  return fc.oneof(...options);
}

function parameterValue(p: OpenAPIV3_1.ParameterObject, fixtures: Fixtures): fc.Arbitrary<string | undefined> {
  const arb = valueOf((p.schema ?? {}) as Schema, fixtures, p.name).map((v) =>
    typeof v === "string" ? v : JSON.stringify(v),
  );
  if (p.required) return arb;
  return fc.option(arb, { nil: undefined, freq: 2 });
}

const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"];

/** Requests for one operation: valid ones and ones broken in one documented way. */
export function requestsFor(op: OperationEntry, fixtures: Fixtures, tokens: TokenKinds): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const headerParams = op.parameters.filter((p) => p.in === "header");
  const bodySchema = (op.operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content?.[
    "application/json"
  ]?.schema;
  const bodyRequired = (op.operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.required === true;

  const record = <T>(params: OpenAPIV3_1.ParameterObject[], f: (p: OpenAPIV3_1.ParameterObject) => fc.Arbitrary<T>) =>
    fc.record(Object.fromEntries(params.map((p) => [p.name, f(p)])));
  const valid = fc.record({
    path: record(pathParams, (p) => parameterValue(p, fixtures)),
    query: record(queryParams, (p) => parameterValue(p, fixtures)),
    headers: record(headerParams, (p) =>
      p.name === "Repeatability-First-Sent" ? fc.constant(undefined) : parameterValue(p, fixtures),
    ),
    body: bodySchema
      ? bodyRequired
        ? valueOf(bodySchema, fixtures)
        : fc.option(valueOf(bodySchema, fixtures), { nil: undefined })
      : fc.constant(undefined),
    token: fc.constantFrom(...tokens.valid),
  });

  type Breakage = (r: Parts) => fc.Arbitrary<Parts & { invalid: string }>;
  interface Parts {
    path: Record<string, string | undefined>;
    query: Record<string, string | undefined>;
    headers: Record<string, string | undefined>;
    body: unknown;
    token: string;
    method?: string;
    rawBody?: { text: string; type: string };
  }
  const breakages: Breakage[] = [];
  if (op.requiresAuthentication) {
    breakages.push((r) =>
      fc.constantFrom(...tokens.invalid).map((token) => ({ ...r, token, invalid: `token: ${token}` })),
    );
  }
  const others = METHODS.filter((m) => m !== op.method.toUpperCase() && !samePathMethods(op).includes(m));
  const wrongMethod: Breakage | undefined =
    others.length > 0
      ? (r) => fc.constantFrom(...others).map((method) => ({ ...r, method, invalid: `method ${method}` }))
      : undefined;
  for (const p of [...pathParams, ...queryParams]) {
    const broken = brokenValueOf(p.schema ?? {}, true, p.in === "path");
    if (!broken) continue;
    const where = p.in === "path" ? "path" : "query";
    breakages.push((r) =>
      broken
        .filter((x) => typeof x.value !== "object")
        .map((x) => ({
          ...r,
          [where]: { ...r[where], [p.name]: String(x.value) },
          invalid: `${where}.${p.name}: ${x.why}`,
        })),
    );
  }
  if (bodySchema) {
    breakages.push((r) => brokenBodyOf(bodySchema, fixtures).map((x) => ({ ...r, body: x.value, invalid: x.why })));
    breakages.push((r) =>
      fc
        .constantFrom("{", '{"a":', "\u0000", "[1,")
        .map((text) => ({ ...r, rawBody: { text, type: "application/json" }, invalid: "body is not JSON" })),
    );
    breakages.push((r) =>
      fc.constantFrom("text/plain", "application/xml", "multipart/form-data").map((type) => ({
        ...r,
        rawBody: { text: JSON.stringify(r.body ?? {}), type },
        invalid: `content-type ${type}`,
      })),
    );
    if (bodyRequired) breakages.push((r) => fc.constant({ ...r, body: undefined, invalid: "required body missing" }));
  }
  // A wrong method is one kind of breakage among the rest, not the most likely one.
  if (wrongMethod && breakages.length === 0) breakages.push(wrongMethod);
  else if (wrongMethod && breakages.length > 0) breakages[0] = oneOf(breakages[0]!, wrongMethod);

  const broken =
    breakages.length === 0
      ? valid
      : fc.tuple(valid, fc.integer({ min: 0, max: breakages.length - 1 })).chain(([r, i]) => breakages[i]!(r));
  return fc
    .oneof({ weight: 1, arbitrary: valid }, { weight: 1, arbitrary: broken })
    .map((parts) => toRequest(op, parts as Parts & { invalid?: string }));

  function toRequest(entry: OperationEntry, parts: Parts & { invalid?: string }): FuzzRequest {
    const path = entry.path
      .replace(/^\/v1/, "")
      .replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(parts.path[name] ?? ""));
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(parts.query)) if (v !== undefined) search.set(k, v);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(parts.headers))
      if (v !== undefined) headers[k] = v.replace(/[^\x20-\x7e]/g, "?");
    let body: string | undefined;
    if (parts.rawBody) {
      body = parts.rawBody.text;
      headers["content-type"] = parts.rawBody.type;
    } else if (parts.body !== undefined) {
      body = JSON.stringify(parts.body);
      headers["content-type"] = "application/json";
    }
    const query = search.toString();
    return {
      operationId: entry.operationId,
      method: parts.method ?? entry.method.toUpperCase(),
      url: `${path}${query ? `?${query}` : ""}`,
      headers,
      ...(body !== undefined ? { body } : {}),
      token: parts.token,
      ...(parts.invalid !== undefined ? { invalid: parts.invalid } : {}),
    };
  }
}

function oneOf<T, U>(a: (r: T) => fc.Arbitrary<U>, b: (r: T) => fc.Arbitrary<U>): (r: T) => fc.Arbitrary<U> {
  return (r) => fc.oneof(a(r), b(r));
}

/** Methods the document defines on the same path as `op` (those are not "wrong methods"). */
function samePathMethods(op: OperationEntry): string[] {
  return [...openApiOperations().values()].filter((o) => o.path === op.path).map((o) => o.method.toUpperCase());
}

/** Requests across every operation of the document, each operation equally likely. */
export function apiRequests(fixtures: Fixtures, tokens: TokenKinds): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...[...openApiOperations().values()].map((op) => requestsFor(op, fixtures, tokens)));
}
