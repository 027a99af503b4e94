/**
 * The three PATCH flavours of the Kubernetes API, applied to plain JSON
 * objects: JSON merge patch (RFC 7386), strategic merge patch (merge patch
 * plus list merging by the kinds' `x-kubernetes-patch-merge-key` and the
 * `$patch` directive) and server-side apply (here: the applied configuration
 * merged over the live object, lists merged like strategic merge). Written by
 * hand: no npm library implements strategic merge, and the kinds the emulator
 * stores need only the list keys below.
 */
import { KubernetesApiError } from "./kubernetesApiError.js";

/** The PATCH content types the API server accepts. */
export type PatchType = "merge" | "strategic" | "apply";

/** Maps a request's Content-Type to its patch type, or throws 415 like the API server. */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const type = (contentType ?? "").split(";")[0]?.trim() ?? "";
  if (type === "application/merge-patch+json") return "merge";
  if (type === "application/strategic-merge-patch+json") return "strategic";
  if (type === "application/apply-patch+yaml" || type === "application/apply-patch+json") return "apply";
  throw new KubernetesApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  );
}

/**
 * Merge keys of the lists (by field name) that strategic merge patch merges
 * instead of replacing, for the kinds the emulator patches (Namespace,
 * ServiceAccount, NetworkPolicy, ResourceQuota, LimitRange; ObjectMeta).
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  ownerReferences: "uid",
  secrets: "name",
  imagePullSecrets: "name",
  containers: "name",
  initContainers: "name",
  env: "name",
  volumes: "name",
  finalizers: "",
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch. Returns a new value. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Strategic merge patch for the kinds above. Returns a new value. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _ignored, ...rest } = patch;
    return structuredClone(rest);
  }
  const out: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$") || key.startsWith("$setElementOrder/") || key.startsWith("$deleteFromPrimitiveList/"))
      continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const mergeKey = MERGE_KEYS[key];
    if (Array.isArray(value) && mergeKey !== undefined && Array.isArray(out[key])) {
      out[key] = mergeList(out[key] as Json[], value, mergeKey);
    } else {
      out[key] = strategicMergePatch(out[key], value);
    }
  }
  for (const k of Object.keys(patch).filter((name) => name.startsWith("$deleteFromPrimitiveList/"))) {
    const field = k.slice("$deleteFromPrimitiveList/".length);
    const values = patch[k];
    const drop = new Set((Array.isArray(values) ? values : []).map((v) => JSON.stringify(v)));
    if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((v) => !drop.has(JSON.stringify(v)));
  }
  return out;
}

/** Merges list `patch` into `live` by `key` (primitive lists: union when key is ""). */
function mergeList(live: Json[], patch: Json[], key: string): Json[] {
  if (key === "")
    return [...new Set([...live, ...patch].map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v) as Json);
  const out = live.map((item) => structuredClone(item));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === "delete") {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) out[index] = strategicMergePatch(out[index], item) as Json;
    else out.push(strategicMergePatch(undefined, item) as Json);
  }
  return out;
}

/** Applies a patch of `type` to `live` (a copy is returned; `live` is untouched). */
export function applyPatch(type: PatchType, live: unknown, patch: unknown): unknown {
  if (!isObject(patch))
    throw KubernetesApiError.badRequest(
      "the body of the request was in an unknown format: a patch must be a JSON object",
    );
  if (type === "merge") return mergePatch(live, patch);
  return strategicMergePatch(live, patch);
}
