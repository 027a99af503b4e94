import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { referenceDir } from "../referenceDir.js";

/**
 * Validation of Kubernetes objects against the official OpenAPI v3 documents
 * kept in the repository's `reference/kubernetes` (see its README). Used by the
 * emulator on create (what the apiserver's decoder and validation would
 * refuse) and by tests (that what the emulator returns has the official shape).
 */

/** The reference documents and the schema names the emulator uses. */
const DOCUMENTS = {
  core: "api__v1_openapi.json",
  batch: "apis__batch__v1_openapi.json",
  node: "apis__node.k8s.io__v1_openapi.json",
  networking: "apis__networking.k8s.io__v1_openapi.json",
} as const;

type DocumentKey = keyof typeof DOCUMENTS;

/** Kinds the emulator validates, mapped to their document and component schema. */
export const KUBERNETES_SCHEMAS = {
  Namespace: ["core", "io.k8s.api.core.v1.Namespace"],
  NamespaceList: ["core", "io.k8s.api.core.v1.NamespaceList"],
  Pod: ["core", "io.k8s.api.core.v1.Pod"],
  PodList: ["core", "io.k8s.api.core.v1.PodList"],
  Node: ["core", "io.k8s.api.core.v1.Node"],
  NodeList: ["core", "io.k8s.api.core.v1.NodeList"],
  Event: ["core", "io.k8s.api.core.v1.Event"],
  EventList: ["core", "io.k8s.api.core.v1.EventList"],
  Status: ["core", "io.k8s.apimachinery.pkg.apis.meta.v1.Status"],
  APIResourceList: ["core", "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"],
  Job: ["batch", "io.k8s.api.batch.v1.Job"],
  JobList: ["batch", "io.k8s.api.batch.v1.JobList"],
  RuntimeClass: ["node", "io.k8s.api.node.v1.RuntimeClass"],
  RuntimeClassList: ["node", "io.k8s.api.node.v1.RuntimeClassList"],
  NetworkPolicy: ["networking", "io.k8s.api.networking.v1.NetworkPolicy"],
  NetworkPolicyList: ["networking", "io.k8s.api.networking.v1.NetworkPolicyList"],
  ResourceQuota: ["core", "io.k8s.api.core.v1.ResourceQuota"],
  ResourceQuotaList: ["core", "io.k8s.api.core.v1.ResourceQuotaList"],
  LimitRange: ["core", "io.k8s.api.core.v1.LimitRange"],
  LimitRangeList: ["core", "io.k8s.api.core.v1.LimitRangeList"],
  ServiceAccount: ["core", "io.k8s.api.core.v1.ServiceAccount"],
  ServiceAccountList: ["core", "io.k8s.api.core.v1.ServiceAccountList"],
} as const satisfies Record<string, readonly [DocumentKey, string]>;

export type KubernetesSchemaKind = keyof typeof KUBERNETES_SCHEMAS;

/** One schema violation, already in Kubernetes' field path notation (`spec.containers[0].name`). */
export interface SchemaViolation {
  /** `unknown` = field not in the schema; `required`; `type` = wrong JSON type; `other`. */
  kind: "unknown" | "required" | "type" | "other";
  /** Dotted field path of the offending value (for `required`: of the missing field). */
  field: string;
  message: string;
}

/** Reads one reference OpenAPI document (parsed JSON). */
export function readKubernetesOpenApiDocument(
  key: DocumentKey,
  referenceRoot = referenceDir(),
): Record<string, unknown> {
  const path = join(referenceRoot, "kubernetes", DOCUMENTS[key]);
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** Upstream path segment (`api/v1`, `apis/batch/v1`, …) of each document, as `/openapi/v3` names them. */
export const OPENAPI_V3_PATHS: Record<string, DocumentKey> = {
  "api/v1": "core",
  "apis/batch/v1": "batch",
  "apis/node.k8s.io/v1": "node",
  "apis/networking.k8s.io/v1": "networking",
};

/**
 * Marks every object schema that lists `properties` as closed
 * (`additionalProperties: false`), which is what the apiserver's strict
 * decoding (`fieldValidation=Strict`) enforces. Mutates `schema`.
 */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) closeObjects(item);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  if (record.properties && typeof record.properties === "object" && record.additionalProperties === undefined) {
    record.additionalProperties = false;
  }
  for (const [key, value] of Object.entries(record)) {
    if (key === "description" || key === "default" || key === "example") continue;
    closeObjects(value);
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Compiled validators for {@link KUBERNETES_SCHEMAS}. Construction reads and
 * compiles the documents once (about a second); share one instance per
 * process via {@link kubernetesSchemaValidator}.
 */
export class KubernetesSchemaValidator {
  readonly #ajv: Ajv;
  readonly #compiled = new Map<KubernetesSchemaKind, ValidateFunction>();

  constructor(referenceRoot = referenceDir()) {
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.#ajv);
    // Kubernetes-specific formats: int-or-string is already expressed by oneOf.
    this.#ajv.addFormat("int-or-string", true);
    for (const key of Object.keys(DOCUMENTS) as DocumentKey[]) {
      const doc = readKubernetesOpenApiDocument(key, referenceRoot);
      const components = (doc.components ?? {}) as Record<string, unknown>;
      closeObjects(components);
      this.#ajv.addSchema({ $id: `k8s-${key}`, components }, `k8s-${key}`);
    }
  }

  #validator(kind: KubernetesSchemaKind): ValidateFunction {
    let fn = this.#compiled.get(kind);
    if (!fn) {
      const [doc, name] = KUBERNETES_SCHEMAS[kind];
      fn = this.#ajv.compile({ $ref: `k8s-${doc}#/components/schemas/${name}` });
      this.#compiled.set(kind, fn);
    }
    return fn;
  }

  /** Validates `value` as `kind`; returns the violations (empty when valid). */
  validate(kind: KubernetesSchemaKind, value: unknown): SchemaViolation[] {
    const fn = this.#validator(kind);
    if (fn(value)) return [];
    return simplify(fn.errors ?? []);
  }
}

/** Turns Ajv errors into field-level violations, dropping the noise that `oneOf`/`allOf` produce. */
function simplify(errors: ErrorObject[]): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const base = pointerToField(error.instancePath);
    let violation: SchemaViolation;
    if (error.keyword === "additionalProperties") {
      const extra = String((error.params as { additionalProperty?: string }).additionalProperty);
      violation = {
        kind: "unknown",
        field: base ? `${base}.${extra}` : extra,
        message: `unknown field "${base ? `${base}.${extra}` : extra}"`,
      };
    } else if (error.keyword === "required") {
      const missing = String((error.params as { missingProperty?: string }).missingProperty);
      violation = { kind: "required", field: base ? `${base}.${missing}` : missing, message: "Required value" };
    } else if (error.keyword === "type" || error.keyword === "oneOf") {
      violation = { kind: "type", field: base, message: `${error.message ?? "wrong type"}` };
    } else if (error.keyword === "if" || error.keyword === "allOf") {
      continue;
    } else {
      violation = { kind: "other", field: base, message: `${error.message ?? error.keyword}` };
    }
    const key = `${violation.kind}:${violation.field}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(violation);
  }
  return out;
}

/** `/spec/containers/0/name` → `spec.containers[0].name`. */
function pointerToField(pointer: string): string {
  let field = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(part)) field += `[${part}]`;
    else field += field ? `.${part}` : part;
  }
  return field;
}

let shared: KubernetesSchemaValidator | undefined;

/** The process-wide validator (compiled on first use). */
export function kubernetesSchemaValidator(): KubernetesSchemaValidator {
  shared ??= new KubernetesSchemaValidator();
  return shared;
}
