/**
 * The API server's decoding-level checks shared by every resource the
 * emulator accepts: body shape, kind/apiVersion, namespace agreement, and
 * the official schema (strict decoding: unknown fields and wrong types are
 * 400; schema-required fields come back as causes to merge with the
 * semantic validation's, as the API server reports them together).
 */
import { KubernetesApiError, type StatusCause } from "./kubernetesApiError.js";
import type { KubeObject } from "./kubernetesObjects.js";
import type { KubernetesSchemaKind, KubernetesSchemaValidator } from "./kubernetesSchemaValidator.js";
import { invalidValue, requiredValue } from "./validateObjectMeta.js";

/** Schema violations of `body` as `kind` (`group` "" = core): throws 400 for decoding errors, returns the rest as causes. */
export function schemaCheck(
  schemas: KubernetesSchemaValidator,
  kind: KubernetesSchemaKind,
  group: string,
  body: KubeObject,
): StatusCause[] {
  const violations = schemas.validate(kind, body);
  const unknown = violations.filter((v) => v.kind === "unknown");
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const version = group ? `${group}/v1` : "v1";
  if (unknown.length) {
    // What the apiserver's strict decoder answers (kubectl sends fieldValidation=Strict).
    throw KubernetesApiError.badRequest(
      `${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((u) => u.message).join(", ")}`,
    );
  }
  const typeErrors = violations.filter((v) => v.kind === "type");
  if (typeErrors.length) {
    const first = typeErrors[0];
    throw KubernetesApiError.badRequest(
      `${kind} in version "${version}" cannot be handled as a ${kind}: json: cannot unmarshal value into Go struct field ` +
        `${qualifiedKind}.${first?.field ?? ""}: ${first?.message ?? ""}`,
    );
  }
  return violations.map((v) =>
    v.kind === "required" ? requiredValue(v.field) : invalidValue(v.field, valueAt(body, v.field), v.message),
  );
}

/** Checks that `body` is an object of `kind`/`apiVersion` in `namespace` (when namespaced); defaults `metadata`. */
export function checkBodyBasics(
  body: unknown,
  kind: string,
  apiVersion: string,
  namespace: string | undefined,
): KubeObject {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw KubernetesApiError.badRequest(
      "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
    );
  }
  const object = body as KubeObject;
  if (object.kind !== undefined && object.kind !== kind) {
    throw KubernetesApiError.badRequest(
      `the kind in the data (${String(object.kind)}) does not match the expected kind (${kind})`,
    );
  }
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersion) {
    throw KubernetesApiError.badRequest(
      `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  object.metadata ??= {};
  if (namespace !== undefined && object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
    throw KubernetesApiError.badRequest(
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  }
  return object;
}

/** Concatenates cause lists, dropping duplicates (same field and reason). */
export function mergeCauses(first: StatusCause[], second: StatusCause[]): StatusCause[] {
  const out = [...first];
  for (const cause of second)
    if (!out.some((c) => c.field === cause.field && c.reason === cause.reason)) out.push(cause);
  return out;
}

/** The value at a dotted field path (`spec.containers[0].name`). */
export function valueAt(object: unknown, field: string): unknown {
  let current: unknown = object;
  for (const part of field.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
