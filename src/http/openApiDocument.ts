import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { OpenAPIV3_1 } from "openapi-types";
import { packageRoot } from "../packageRoot.js";

export type OpenApiDocument = OpenAPIV3_1.Document & {
  "x-error-codes": Record<string, { status: number; description: string }>;
};

export const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One operation of the document, with where it lives. */
export interface OperationEntry {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** Path as written in the document, e.g. `/v1/whoami`. */
  readonly path: string;
  readonly operation: OpenAPIV3_1.OperationObject;
  /** Path-level and operation-level parameters, `$ref`s resolved. */
  readonly parameters: readonly OpenAPIV3_1.ParameterObject[];
  /** False for operations with `security: []`. */
  readonly requiresAuthentication: boolean;
}

let documentCache: OpenApiDocument | undefined;
let operationsCache: Map<string, OperationEntry> | undefined;

/** The document in `openapi/openapi.json`, parsed once per process. */
export function openApiDocument(): OpenApiDocument {
  documentCache ??= JSON.parse(readFileSync(join(packageRoot(), "openapi", "openapi.json"), "utf8")) as OpenApiDocument;
  return documentCache;
}

function resolveRef<T>(doc: OpenApiDocument, value: T | OpenAPIV3_1.ReferenceObject): T {
  if (value && typeof value === "object" && "$ref" in value) {
    const parts = value.$ref.replace(/^#\//, "").split("/");
    let node: unknown = doc;
    for (const part of parts) node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`unresolved $ref ${value.$ref}`);
    return node as T;
  }
  return value;
}

/** Every operation of the document keyed by operationId (unique, checked). */
export function openApiOperations(): ReadonlyMap<string, OperationEntry> {
  if (operationsCache) return operationsCache;
  const doc = openApiDocument();
  const map = new Map<string, OperationEntry>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!item) continue;
    const pathParams = (item.parameters ?? []).map((p) => resolveRef<OpenAPIV3_1.ParameterObject>(doc, p));
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const id = operation.operationId;
      if (!id) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      if (map.has(id)) throw new Error(`duplicate operationId ${id}`);
      const own = (operation.parameters ?? []).map((p) => resolveRef<OpenAPIV3_1.ParameterObject>(doc, p));
      const merged = [...pathParams.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
      const security = operation.security ?? doc.security ?? [];
      map.set(id, {
        operationId: id,
        method,
        path,
        operation,
        parameters: merged,
        requiresAuthentication: security.length > 0,
      });
    }
  }
  operationsCache = map;
  return map;
}

/** The operation with this id. @throws when the document has none. */
export function openApiOperation(operationId: string): OperationEntry {
  const entry = openApiOperations().get(operationId);
  if (!entry) throw new Error(`openapi/openapi.json has no operation "${operationId}"`);
  return entry;
}

/** The Functions route (without the `api` prefix) for a document path: `/v1/x/{id}` → `v1/x/{id}`. */
export function functionsRouteFor(path: string): string {
  return path.replace(/^\/+/, "");
}
