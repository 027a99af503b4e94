/**
 * The policy objects of a simulated cluster: NetworkPolicy
 * (`networking.k8s.io/v1`), ResourceQuota, LimitRange and ServiceAccount
 * (core `v1`). They have no controller of their own: the store validates
 * them against the official schemas, keeps them per namespace, and the
 * admission and network code of the runtime reads them. Create, get, list,
 * replace (PUT with optional resourceVersion precondition), PATCH (merge,
 * strategic merge, server-side apply) and delete, with the API server's
 * errors. An update that changes nothing keeps the resourceVersion (a
 * re-apply is a no-op, as on a real API server).
 */
import { randomUUID } from "node:crypto";
import { KubernetesApiError, type StatusCause } from "./kubernetesApiError.js";
import { k8sTime, type KubeObject } from "./kubernetesObjects.js";
import type { KubernetesSchemaKind, KubernetesSchemaValidator } from "./kubernetesSchemaValidator.js";
import { applyPatch, type PatchType } from "./objectPatch.js";
import { parseQuantity } from "./parseQuantity.js";
import { checkBodyBasics, mergeCauses, schemaCheck } from "./schemaCheck.js";
import { invalidValue, requiredValue, unsupportedValue, validateObjectMeta } from "./validateObjectMeta.js";

/** What the store knows about each resource it serves. */
export interface StoredResource {
  kind: KubernetesSchemaKind & ("NetworkPolicy" | "ResourceQuota" | "LimitRange" | "ServiceAccount");
  listKind: KubernetesSchemaKind;
  group: string;
  apiVersion: string;
  validate: (object: KubeObject) => StatusCause[];
}

export const STORED_RESOURCES = {
  networkpolicies: {
    kind: "NetworkPolicy",
    listKind: "NetworkPolicyList",
    group: "networking.k8s.io",
    apiVersion: "networking.k8s.io/v1",
    validate: validateNetworkPolicy,
  },
  resourcequotas: {
    kind: "ResourceQuota",
    listKind: "ResourceQuotaList",
    group: "",
    apiVersion: "v1",
    validate: validateResourceQuota,
  },
  limitranges: {
    kind: "LimitRange",
    listKind: "LimitRangeList",
    group: "",
    apiVersion: "v1",
    validate: validateLimitRange,
  },
  serviceaccounts: {
    kind: "ServiceAccount",
    listKind: "ServiceAccountList",
    group: "",
    apiVersion: "v1",
    validate: () => [],
  },
} as const satisfies Record<string, StoredResource>;

export type StoredResourceName = keyof typeof STORED_RESOURCES;

export function isStoredResource(resource: string): resource is StoredResourceName {
  return Object.hasOwn(STORED_RESOURCES, resource);
}

/** What the store needs from its cluster. */
export interface NamespacedObjectStoreDeps {
  schemas: KubernetesSchemaValidator;
  nowMs: () => number;
  nextResourceVersion: () => string;
  namespaceExists: (namespace: string) => boolean;
  /** Adds the live status (ResourceQuota `status.used`) to a copy handed out. */
  decorate?: (resource: StoredResourceName, object: KubeObject) => KubeObject;
}

export class NamespacedObjectStore {
  readonly #objects = new Map<string, KubeObject>();

  constructor(private readonly deps: NamespacedObjectStoreDeps) {}

  #key(resource: StoredResourceName, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  #out(resource: StoredResourceName, object: KubeObject): KubeObject {
    const copy = structuredClone(object);
    return this.deps.decorate ? this.deps.decorate(resource, copy) : copy;
  }

  /** Every stored object keyed as stored, for the simulated cloud's state file. */
  exportAll(): Array<[string, KubeObject]> {
    return [...this.#objects].map(([key, object]) => [key, structuredClone(object)]);
  }

  /** Restores what {@link exportAll} wrote. */
  importAll(entries: ReadonlyArray<[string, KubeObject]>): void {
    for (const [key, object] of entries) this.#objects.set(key, structuredClone(object));
  }

  /** Every object of `resource` (in `namespace`, or all namespaces). */
  list(resource: StoredResourceName, namespace: string | undefined): KubeObject[] {
    return this.raw(resource, namespace).map((o) => this.#out(resource, o));
  }

  /** The stored objects themselves (not copies): for the runtime's admission and network code only. */
  raw(resource: StoredResourceName, namespace: string | undefined): readonly KubeObject[] {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    return [...this.#objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => o);
  }

  get(resource: StoredResourceName, namespace: string, name: string): KubeObject {
    const object = this.#objects.get(this.#key(resource, namespace, name));
    if (!object) throw KubernetesApiError.notFound(resource, STORED_RESOURCES[resource].group, name);
    return this.#out(resource, object);
  }

  /** Validates `body` as `resource` in `namespace`; returns the object with its name. */
  #validated(resource: StoredResourceName, namespace: string, body: unknown, nameFromPath?: string): KubeObject {
    const info = STORED_RESOURCES[resource];
    const object = checkBodyBasics(body, info.kind, info.apiVersion, namespace);
    if (nameFromPath !== undefined && object.metadata.name !== undefined && object.metadata.name !== nameFromPath) {
      throw KubernetesApiError.badRequest(
        "the name of the object (" +
          String(object.metadata.name) +
          ") does not match the name on the URL (" +
          nameFromPath +
          ")",
      );
    }
    if (nameFromPath !== undefined) object.metadata.name ??= nameFromPath;
    const { status: _status, ...withoutStatus } = object;
    // Empty maps are omitted on the wire (`omitempty`), as after a patch removes the last label.
    for (const key of ["labels", "annotations"] as const) {
      const map = object.metadata[key];
      if (map && Object.keys(map).length === 0) delete object.metadata[key];
    }
    const causes = mergeCauses(schemaCheck(this.deps.schemas, info.kind, info.group, withoutStatus), [
      ...validateObjectMeta(object.metadata, "subdomain"),
      ...info.validate(object),
    ]);
    if (causes.length) throw KubernetesApiError.invalid(info.kind, info.group, object.metadata.name ?? "", causes);
    if (!this.deps.namespaceExists(namespace)) throw KubernetesApiError.notFound("namespaces", "", namespace);
    return withoutStatus;
  }

  create(resource: StoredResourceName, namespace: string, body: unknown, dryRun: boolean): KubeObject {
    const info = STORED_RESOURCES[resource];
    const object = this.#validated(resource, namespace, body);
    const name = object.metadata.name ?? `${object.metadata.generateName ?? ""}${randomUUID().slice(0, 5)}`;
    const key = this.#key(resource, namespace, name);
    if (this.#objects.has(key)) throw KubernetesApiError.alreadyExists(resource, info.group, name);
    const { generateName: _g, ...metadata } = object.metadata;
    const stored: KubeObject = {
      ...object,
      apiVersion: info.apiVersion,
      kind: info.kind,
      metadata: {
        ...metadata,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: "",
        ...(resource === "networkpolicies" ? { generation: 1 } : {}),
        creationTimestamp: k8sTime(this.deps.nowMs()),
      },
    };
    if (resource === "networkpolicies") defaultNetworkPolicy(stored);
    if (dryRun) return this.#out(resource, stored);
    stored.metadata.resourceVersion = this.deps.nextResourceVersion();
    this.#objects.set(key, stored);
    return this.#out(resource, stored);
  }

  /** PUT: the whole object; a `metadata.resourceVersion` in the body must match (409 Conflict otherwise). */
  replace(resource: StoredResourceName, namespace: string, name: string, body: unknown, dryRun: boolean): KubeObject {
    const live = this.#objects.get(this.#key(resource, namespace, name));
    if (!live) throw KubernetesApiError.notFound(resource, STORED_RESOURCES[resource].group, name);
    const object = this.#validated(resource, namespace, body, name);
    const expected = object.metadata.resourceVersion;
    if (expected !== undefined && expected !== "" && expected !== live.metadata.resourceVersion) {
      const info = STORED_RESOURCES[resource];
      throw new KubernetesApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${info.group ? `${resource}.${info.group}` : resource} "${name}": ` +
          "the object has been modified; please apply your changes to the latest version and try again",
        { name, ...(info.group ? { group: info.group } : {}), kind: resource },
      );
    }
    return this.#update(resource, live, object, dryRun);
  }

  /**
   * PATCH. Server-side apply (`apply`) creates the object when it does not
   * exist; the other types answer 404 then.
   */
  patch(
    resource: StoredResourceName,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    dryRun: boolean,
  ): { object: KubeObject; created: boolean } {
    const live = this.#objects.get(this.#key(resource, namespace, name));
    if (!live) {
      if (type !== "apply") throw KubernetesApiError.notFound(resource, STORED_RESOURCES[resource].group, name);
      const body = structuredClone(patch) as KubeObject;
      if (body && typeof body === "object") body.metadata = { ...(body.metadata ?? {}), name };
      return { object: this.create(resource, namespace, body, dryRun), created: true };
    }
    const merged = applyPatch(type, live, patch) as KubeObject;
    const object = this.#validated(resource, namespace, merged, name);
    return { object: this.#update(resource, live, object, dryRun), created: false };
  }

  #update(resource: StoredResourceName, live: KubeObject, object: KubeObject, dryRun: boolean): KubeObject {
    const info = STORED_RESOURCES[resource];
    const next: KubeObject = {
      ...object,
      apiVersion: info.apiVersion,
      kind: info.kind,
      metadata: {
        ...object.metadata,
        name: live.metadata.name,
        namespace: live.metadata.namespace,
        uid: live.metadata.uid,
        creationTimestamp: live.metadata.creationTimestamp,
        resourceVersion: live.metadata.resourceVersion,
        ...(live.metadata.generation !== undefined ? { generation: live.metadata.generation } : {}),
      },
    };
    if (resource === "networkpolicies") defaultNetworkPolicy(next);
    if (JSON.stringify(sortKeys(next)) === JSON.stringify(sortKeys(live))) return this.#out(resource, live);
    if (
      live.metadata.generation !== undefined &&
      JSON.stringify(sortKeys(next.spec)) !== JSON.stringify(sortKeys(live.spec))
    ) {
      next.metadata.generation = live.metadata.generation + 1;
    }
    if (dryRun) return this.#out(resource, next);
    next.metadata.resourceVersion = this.deps.nextResourceVersion();
    this.#objects.set(this.#key(resource, live.metadata.namespace ?? "", live.metadata.name ?? ""), next);
    return this.#out(resource, next);
  }

  /** DELETE: the object as it was (objects without finalizers go at once). */
  delete(resource: StoredResourceName, namespace: string, name: string, dryRun: boolean): KubeObject {
    const key = this.#key(resource, namespace, name);
    const live = this.#objects.get(key);
    if (!live) throw KubernetesApiError.notFound(resource, STORED_RESOURCES[resource].group, name);
    if (!dryRun) this.#objects.delete(key);
    return this.#out(resource, live);
  }

  /** The ServiceAccount controller's `default` account of a new namespace. */
  ensureDefaultServiceAccount(namespace: string): void {
    if (this.#objects.has(this.#key("serviceaccounts", namespace, "default"))) return;
    this.create("serviceaccounts", namespace, { metadata: { name: "default" } }, false);
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sortKeys(v)]),
  );
}

interface NetworkPolicySpecShape {
  podSelector?: unknown;
  policyTypes?: string[];
  ingress?: Array<{ from?: PeerShape[]; ports?: PortShape[] }>;
  egress?: Array<{ to?: PeerShape[]; ports?: PortShape[] }>;
}
interface PeerShape {
  ipBlock?: { cidr?: string; except?: string[] };
  podSelector?: unknown;
  namespaceSelector?: unknown;
}
interface PortShape {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

/** The API server's defaulting: policyTypes from the rules present, protocol TCP. */
function defaultNetworkPolicy(object: KubeObject): void {
  const spec = (object.spec ?? {}) as NetworkPolicySpecShape;
  object.spec = spec;
  if (!spec.policyTypes || spec.policyTypes.length === 0)
    spec.policyTypes = ["Ingress", ...(spec.egress ? ["Egress"] : [])];
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])])
    for (const port of rule.ports ?? []) port.protocol ??= "TCP";
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** A valid IPv4 CIDR (the emulator's clusters are IPv4 only). */
export function parseCidr(text: string): { base: number; bits: number } | undefined {
  const m = CIDR.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base, bits };
}

/** The networking validation beyond the schema (policyTypes, CIDRs and `except`, protocols, ports). */
function validateNetworkPolicy(object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = object.spec as NetworkPolicySpecShape | undefined;
  if (!spec) return [requiredValue("spec")];
  (spec.policyTypes ?? []).forEach((t, i) => {
    if (t !== "Ingress" && t !== "Egress")
      causes.push(unsupportedValue(`spec.policyTypes[${i}]`, t, ["Ingress", "Egress"]));
  });
  const peers = (
    rules: Array<{ from?: PeerShape[]; to?: PeerShape[]; ports?: PortShape[] }> | undefined,
    kind: "ingress" | "egress",
  ) => {
    (rules ?? []).forEach((rule, r) => {
      const side = kind === "ingress" ? "from" : "to";
      (rule[side] ?? []).forEach((peer, p) => {
        const field = `spec.${kind}[${r}].${side}[${p}]`;
        if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) {
          causes.push({
            reason: "FieldValueForbidden",
            message: "Forbidden: may not specify both ipBlock and another peer",
            field,
          });
        }
        if (!peer.ipBlock && !peer.podSelector && !peer.namespaceSelector) {
          causes.push(requiredValue(field, "must specify a peer"));
        }
        if (peer.ipBlock) {
          const cidr = parseCidr(peer.ipBlock.cidr ?? "");
          if (!cidr)
            causes.push(
              invalidValue(
                `${field}.ipBlock.cidr`,
                peer.ipBlock.cidr ?? "",
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
              ),
            );
          (peer.ipBlock.except ?? []).forEach((e, i) => {
            const ex = parseCidr(e);
            if (!ex)
              causes.push(
                invalidValue(
                  `${field}.ipBlock.except[${i}]`,
                  e,
                  "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ),
              );
            else if (cidr && !(ex.bits > cidr.bits && cidrContains(cidr, ex.base))) {
              causes.push(invalidValue(`${field}.ipBlock.except[${i}]`, e, "must be a strict subset of `cidr`"));
            }
          });
        }
      });
      (rule.ports ?? []).forEach((port, i) => {
        const field = `spec.${kind}[${r}].ports[${i}]`;
        if (port.protocol !== undefined && !["TCP", "UDP", "SCTP"].includes(port.protocol)) {
          causes.push(unsupportedValue(`${field}.protocol`, port.protocol, ["SCTP", "TCP", "UDP"]));
        }
        if (typeof port.port === "number" && (port.port < 1 || port.port > 65535)) {
          causes.push(invalidValue(`${field}.port`, port.port, "must be between 1 and 65535, inclusive"));
        }
      });
    });
  };
  peers(spec.ingress, "ingress");
  peers(spec.egress, "egress");
  return causes;
}

/** True when `ip` (as a 32-bit number) is inside `cidr`. */
export function cidrContains(cidr: { base: number; bits: number }, ip: number): boolean {
  if (cidr.bits === 0) return true;
  const size = 2 ** (32 - cidr.bits);
  return Math.floor(ip / size) === Math.floor(cidr.base / size);
}

function quantityCauses(field: string, values: Record<string, unknown> | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const [name, value] of Object.entries(values ?? {})) {
    if (parseQuantity(value as string | number) === undefined) {
      out.push(
        invalidValue(
          `${field}[${name}]`,
          value,
          "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ),
      );
    }
  }
  return out;
}

function validateResourceQuota(object: KubeObject): StatusCause[] {
  const spec = object.spec as { hard?: Record<string, unknown> } | undefined;
  return quantityCauses("spec.hard", spec?.hard);
}

function validateLimitRange(object: KubeObject): StatusCause[] {
  const spec = object.spec as { limits?: Array<Record<string, unknown>> } | undefined;
  if (!spec?.limits) return [requiredValue("spec.limits")];
  const causes: StatusCause[] = [];
  spec.limits.forEach((item, i) => {
    const type = item.type;
    if (!["Pod", "Container", "PersistentVolumeClaim"].includes(String(type))) {
      causes.push(unsupportedValue(`spec.limits[${i}].type`, type, ["Container", "PersistentVolumeClaim", "Pod"]));
    }
    for (const key of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) {
      causes.push(...quantityCauses(`spec.limits[${i}].${key}`, item[key] as Record<string, unknown> | undefined));
    }
  });
  return causes;
}
