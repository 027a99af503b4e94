import type { Ajv2020, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { OpenAPIV3_1 } from "openapi-types";
import { SandboxError, type ErrorDetail } from "../domain/sandboxError.js";
import { openApiDocument, openApiOperation, type OperationEntry } from "./openApiDocument.js";

const SCHEMA_PREFIX = "urn:aks-pod-sandbox:schemas:";

/** Rewrites `#/components/schemas/X` refs to ids Ajv knows, recursively. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && value.startsWith("#/components/schemas/")) {
        out[key] = SCHEMA_PREFIX + value.slice("#/components/schemas/".length);
      } else if (key === "example" || key === "examples" || key === "description" || key === "summary") {
        // documentation only
      } else {
        out[key] = rewriteRefs(value);
      }
    }
    return out;
  }
  return node;
}

interface AjvModules {
  Ajv2020: typeof Ajv2020;
  addFormats: (ajv: Ajv2020) => void;
}

let ajvModules: AjvModules | undefined;
let ajvLoading: Promise<void> | undefined;

/**
 * Loads Ajv (about a quarter of a cold start's imports) on first use rather
 * than at import time, so registering the functions stays cheap. Call (and
 * await) before {@link validateRequest}; idempotent.
 */
export function loadRequestValidation(): Promise<void> {
  ajvLoading ??= Promise.all([import("ajv/dist/2020.js"), import("ajv-formats")]).then(([ajv, formats]) => {
    ajvModules = { Ajv2020: ajv.Ajv2020, addFormats: formats.default as unknown as (a: Ajv2020) => void };
  });
  return ajvLoading;
}

function createAjv(coerceTypes: boolean): Ajv2020 {
  if (!ajvModules) throw new Error("loadRequestValidation() must be awaited before validating requests");
  const ajv = new ajvModules.Ajv2020({ allErrors: true, strict: false, coerceTypes, useDefaults: coerceTypes });
  ajvModules.addFormats(ajv);
  for (const [name, schema] of Object.entries(openApiDocument().components?.schemas ?? {})) {
    ajv.addSchema({ ...(rewriteRefs(schema) as object), $id: SCHEMA_PREFIX + name });
  }
  return ajv;
}

let bodyAjv: Ajv2020 | undefined;
let paramAjv: Ajv2020 | undefined;

/** The parts of a request the validator checks. */
export interface RequestParts {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Headers;
  /** Parsed JSON body, or undefined when there is none. */
  body: unknown;
  hasBody: boolean;
}

/** Validated, type-coerced parts handed to the operation handler. */
export interface ValidatedRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

interface CompiledOperation {
  entry: OperationEntry;
  path: ValidateFunction;
  query: ValidateFunction;
  header: ValidateFunction;
  body: ValidateFunction | undefined;
  bodyRequired: boolean;
  queryNames: Set<string>;
  headerNames: string[];
}

const compiled = new Map<string, CompiledOperation>();

function objectSchema(params: readonly OpenAPIV3_1.ParameterObject[], lowerNames: boolean): object {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const p of params) {
    const name = lowerNames ? p.name.toLowerCase() : p.name;
    properties[name] = rewriteRefs(p.schema ?? {});
    if (p.required) required.push(name);
  }
  return { type: "object", properties, required };
}

function compile(operationId: string): CompiledOperation {
  const cachedOp = compiled.get(operationId);
  if (cachedOp) return cachedOp;
  bodyAjv ??= createAjv(false);
  paramAjv ??= createAjv(true);
  const entry = openApiOperation(operationId);
  const inPlace = (where: string) => entry.parameters.filter((p) => p.in === where);
  const requestBody = entry.operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
  const jsonSchema = requestBody?.content?.["application/json"]?.schema;
  const op: CompiledOperation = {
    entry,
    path: paramAjv.compile(objectSchema(inPlace("path"), false)),
    query: paramAjv.compile({ ...objectSchema(inPlace("query"), false) }),
    header: paramAjv.compile(objectSchema(inPlace("header"), true)),
    body: jsonSchema ? bodyAjv.compile(rewriteRefs(jsonSchema) as object) : undefined,
    bodyRequired: requestBody?.required === true,
    queryNames: new Set(inPlace("query").map((p) => p.name)),
    headerNames: inPlace("header").map((p) => p.name.toLowerCase()),
  };
  compiled.set(operationId, op);
  return op;
}

function joinPath(base: string, instancePath: string): string {
  const rest = instancePath
    .split("/")
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s.replace(/~1/g, "/").replace(/~0/g, "~")}`))
    .join("");
  return `${base}${rest}`;
}

function toDetails(where: string, errors: readonly ErrorObject[] | null | undefined): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const e of errors ?? []) {
    let target = joinPath(where, e.instancePath);
    let message: string;
    if (e.keyword === "additionalProperties") {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      target = `${target}.${extra}`;
      message = `unknown field "${extra}"`;
    } else if (e.keyword === "required") {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      target = `${target}.${missing}`;
      message = `"${missing}" is required`;
    } else if (e.keyword === "enum") {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    } else {
      message = e.message ?? "is invalid";
    }
    // Some keywords (anyOf/oneOf/if) repeat what their branches said.
    if (["anyOf", "oneOf", "if"].includes(e.keyword) && details.length > 0) continue;
    if (!details.some((d) => d.target === target && d.message === message))
      details.push({ code: "InvalidRequest", target, message });
  }
  return details;
}

/**
 * Validates a request against its operation in the OpenAPI document:
 * path/query/header parameters (coerced to their schema types; unknown query
 * parameters rejected) and the JSON body (no coercion; unknown fields
 * rejected where the schema says `additionalProperties: false`).
 * @throws SandboxError `InvalidRequest` with one detail per problem.
 */
export function validateRequest(operationId: string, parts: RequestParts): ValidatedRequest {
  const op = compile(operationId);
  const details: ErrorDetail[] = [];

  const params = { ...parts.params };
  if (!op.path(params)) details.push(...toDetails("path", op.path.errors));

  const query: Record<string, unknown> = {};
  for (const [name, value] of parts.query) {
    if (name === "code") continue; // Functions key; consumed by the host
    if (!op.queryNames.has(name)) {
      details.push({ code: "InvalidRequest", target: `query.${name}`, message: `unknown query parameter "${name}"` });
      continue;
    }
    query[name] = value;
  }
  if (!op.query(query)) details.push(...toDetails("query", op.query.errors));

  const headers: Record<string, unknown> = {};
  for (const name of op.headerNames) {
    const value = parts.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  if (!op.header(headers)) details.push(...toDetails("header", op.header.errors));

  let body = parts.body;
  if (op.body) {
    if (!parts.hasBody) {
      if (op.bodyRequired) details.push({ code: "InvalidRequest", target: "body", message: "a JSON body is required" });
      body = undefined;
    } else if (!op.body(body)) {
      details.push(...toDetails("body", op.body.errors));
    }
  } else if (parts.hasBody) {
    details.push({ code: "InvalidRequest", target: "body", message: "this operation takes no body" });
  }

  if (details.length > 0) {
    const first = details[0]!;
    const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? "s" : ""})` : "";
    throw new SandboxError("InvalidRequest", `${first.target}: ${first.message}${more}`, {
      target: first.target,
      details,
    });
  }
  return { params, query, body };
}
