import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";
import { referenceDir } from "../referenceDir.js";

/** The reference swaggers the emulator validates against. */
export type SwaggerDocumentName = "aks-stable" | "aks-preview" | "features" | "resources" | "common-v6";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const COMMON_V6 = "common-types/resource-management/v6/types.json";

/** Reads a JSON file under the repository's `reference/arm/`. */
export function readArmReference(relativePath: string): JsonObject {
  return JSON.parse(readFileSync(join(referenceDir(), "arm", relativePath), "utf8")) as JsonObject;
}

/**
 * Rewrites a swagger 2.0 fragment into what Ajv understands: cross-file
 * `$ref`s point at the locally registered ids, enums marked `modelAsString`
 * lose their `enum` (Azure accepts values it does not list there), and
 * `x-nullable` widens the type.
 */
function adapt(node: Json, refMap: (ref: string) => string): Json {
  if (Array.isArray(node)) return node.map((n) => adapt(n, refMap));
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") out[key] = refMap(value);
    else if (key === "example" || key === "x-ms-examples") continue;
    else out[key] = adapt(value, refMap);
  }
  const xmsEnum = node["x-ms-enum"];
  if (
    Array.isArray(out.enum) &&
    xmsEnum &&
    typeof xmsEnum === "object" &&
    !Array.isArray(xmsEnum) &&
    xmsEnum.modelAsString === true
  ) {
    delete out.enum;
  }
  if (node["x-nullable"] === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

function refMapper(ref: string): string {
  if (ref.startsWith("#")) return ref;
  const [file, pointer = ""] = ref.split("#");
  if (file?.endsWith(COMMON_V6)) return `common-v6.json#${pointer}`;
  if (file?.endsWith("common-types/resource-management/v1/types.json")) {
    // v1 is not in the reference set; its ErrorResponse has the v6 ErrorDetail shape.
    return pointer === "/definitions/ErrorResponse" ? "common-v6.json#/definitions/ErrorDetail" : "any.json#";
  }
  // managedidentitywithdelegation.json is not in the reference set either: accept anything there.
  return "any.json#";
}

/** Validates JSON values against definitions and operations of the reference swaggers. */
export class SwaggerValidator {
  readonly #ajv: Ajv;
  readonly #documents = new Map<SwaggerDocumentName, JsonObject>();
  readonly #cache = new Map<string, ValidateFunction>();

  constructor() {
    this.#ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true, allowUnionTypes: true });
    // ajv-formats is CommonJS: under NodeNext its default import is `module.exports`, whose `default` is the plugin.
    addFormatsModule.default(this.#ajv);
    this.#ajv.addFormat("arm-id", true);
    this.#ajv.addSchema({}, "any.json");

    const stable = readArmReference("containerservice/2026-10-01/managedClusters.json");
    const excerpt = readArmReference("containerservice/2026-10-02-preview/managedClusters.excerpt.json");
    const preview: JsonObject = {
      ...stable,
      definitions: { ...(stable.definitions as JsonObject), ...(excerpt.definitions as JsonObject) },
    };
    const docs: [SwaggerDocumentName, JsonObject][] = [
      ["common-v6", readArmReference(COMMON_V6)],
      ["aks-stable", stable],
      ["aks-preview", preview],
      ["features", readArmReference("features/2021-07-01/features.json")],
      ["resources", readArmReference("resources/2025-04-01/resources.json")],
    ];
    for (const [name, doc] of docs) {
      this.#documents.set(name, doc);
      // Only the definitions are schemas; paths and parameters are looked up, not compiled.
      this.#ajv.addSchema({ definitions: adapt(doc.definitions ?? {}, refMapper) }, `${name}.json`);
    }
  }

  /** The raw swagger document (for looking up paths and responses). */
  document(name: SwaggerDocumentName): JsonObject {
    const doc = this.#documents.get(name);
    if (!doc) throw new Error(`unknown swagger document ${name}`);
    return doc;
  }

  #compiled(ref: string): ValidateFunction {
    let fn = this.#cache.get(ref);
    if (!fn) {
      const found = this.#ajv.getSchema(ref);
      if (!found) throw new Error(`no schema ${ref}`);
      fn = found;
      this.#cache.set(ref, fn);
    }
    return fn;
  }

  /**
   * Validates `value` against `#/definitions/<definition>` of `document`.
   * Returns [] when valid, else readable messages (`<json path> <problem>`).
   * Each definition is compiled once per validator and cached.
   */
  validateDefinition(document: SwaggerDocumentName, definition: string, value: unknown): ValidationProblem[] {
    const fn = this.#compiled(`${document}.json#/definitions/${definition}`);
    return fn(value) ? [] : toProblems(fn.errors ?? []);
  }

  /**
   * Validates a response body against the schema the swagger declares for
   * `operationId` and `status` (falling back to `default`). Returns [] when
   * valid or when that response declares no body.
   */
  validateResponse(
    document: SwaggerDocumentName,
    operationId: string,
    status: number,
    body: unknown,
  ): ValidationProblem[] {
    const op = this.findOperation(document, operationId);
    if (!op) throw new Error(`${document}: no operation ${operationId}`);
    const responses = op.responses as JsonObject;
    const response = (responses[String(status)] ?? responses.default) as JsonObject | undefined;
    if (!response) return [{ path: "", message: `status ${status} is not declared for ${operationId}` }];
    const schema = response.schema as JsonObject | undefined;
    if (!schema) return [];
    const ref = schema.$ref;
    if (typeof ref !== "string") throw new Error(`${operationId} ${status}: inline schema not supported`);
    const mapped = refMapper(ref);
    const key = mapped.startsWith("#") ? `${document}.json${mapped}` : mapped;
    const fn = this.#compiled(key);
    return fn(body) ? [] : toProblems(fn.errors ?? []);
  }

  /** The swagger operation object with `operationId`, or undefined. */
  findOperation(document: SwaggerDocumentName, operationId: string): JsonObject | undefined {
    const paths = this.document(document).paths as JsonObject | undefined;
    for (const item of Object.values(paths ?? {})) {
      for (const op of Object.values(item as JsonObject)) {
        if (op && typeof op === "object" && !Array.isArray(op) && op.operationId === operationId) return op;
      }
    }
    return undefined;
  }
}

/** One schema violation: where (dotted JSON path, as ARM names fields) and what. */
export interface ValidationProblem {
  path: string;
  message: string;
}

function toProblems(errors: ErrorObject[]): ValidationProblem[] {
  return errors.map((e) => {
    let path = e.instancePath
      .replace(/^\//, "")
      .split("/")
      .filter(Boolean)
      .join(".")
      .replace(/\.(\d+)(?=\.|$)/g, "[$1]");
    if (e.keyword === "required") {
      const missing = (e.params as { missingProperty?: string }).missingProperty ?? "";
      path = path ? `${path}.${missing}` : missing;
      return { path, message: `is required` };
    }
    return { path, message: e.message ?? e.keyword };
  });
}

let shared: SwaggerValidator | undefined;

/**
 * The process-wide validator: the swaggers are parsed once and each definition
 * compiled on first use, so starting many emulators (tests) stays cheap.
 */
export function sharedSwaggerValidator(): SwaggerValidator {
  shared ??= new SwaggerValidator();
  return shared;
}
