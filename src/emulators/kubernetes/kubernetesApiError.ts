/**
 * Kubernetes API errors as the apiserver returns them: a `meta/v1` `Status`
 * body with `status: "Failure"`, a machine-readable `reason` and the HTTP
 * `code`. Clients (client-go, @kubernetes/client-node) key their behaviour on
 * `reason` and `code`, so both must match what a real apiserver sends.
 */

/** One `details.causes` entry (`FieldValueRequired`, `FieldValueInvalid`, …). */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** `Status.details`: names the object the error is about. */
export interface StatusDetails {
  name?: string;
  group?: string;
  /** The resource (plural, e.g. `jobs`) for NotFound/AlreadyExists; the Kind for Invalid. */
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

/** A `Status` object body. */
export interface KubernetesStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown inside the emulator; the server turns it into a `Status` response. */
export class KubernetesApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = "KubernetesApiError";
  }

  /** The wire body (`Status`). */
  toStatus(): KubernetesStatus {
    const body: KubernetesStatus = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) body.details = this.details;
    return body;
  }

  /** `<resource>[.<group>] "<name>" not found`, as the registry answers. */
  static notFound(resource: string, group: string, name: string): KubernetesApiError {
    return new KubernetesApiError(
      404,
      "NotFound",
      `${qualified(resource, group)} "${name}" not found`,
      withGroup({ name, kind: resource }, group),
    );
  }

  /** `<resource>[.<group>] "<name>" already exists`. */
  static alreadyExists(resource: string, group: string, name: string): KubernetesApiError {
    return new KubernetesApiError(
      409,
      "AlreadyExists",
      `${qualified(resource, group)} "${name}" already exists`,
      withGroup({ name, kind: resource }, group),
    );
  }

  /**
   * 422 Invalid: `<Kind>[.<group>] "<name>" is invalid: <cause>` (one cause)
   * or `…: [<cause>, <cause>]` (several), with the causes in `details`.
   */
  static invalid(kind: string, group: string, name: string, causes: StatusCause[]): KubernetesApiError {
    const texts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const joined = texts.length === 1 ? (texts[0] ?? "") : `[${texts.join(", ")}]`;
    return new KubernetesApiError(
      422,
      "Invalid",
      `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${joined}`,
      withGroup({ name, kind, causes }, group),
    );
  }

  /** 403 Forbidden: `<resource>[.<group>] "<name>" is forbidden: <why>`. */
  static forbidden(resource: string, group: string, name: string, why: string): KubernetesApiError {
    return new KubernetesApiError(
      403,
      "Forbidden",
      `${qualified(resource, group)} "${name}" is forbidden: ${why}`,
      withGroup({ name, kind: resource }, group),
    );
  }

  static badRequest(message: string): KubernetesApiError {
    return new KubernetesApiError(400, "BadRequest", message);
  }

  static unauthorized(): KubernetesApiError {
    return new KubernetesApiError(401, "Unauthorized", "Unauthorized");
  }

  static methodNotAllowed(): KubernetesApiError {
    return new KubernetesApiError(
      405,
      "MethodNotAllowed",
      "the server does not allow this method on the requested resource",
    );
  }

  /** 404 for an unknown path (the apiserver's plain "the server could not find the requested resource"). */
  static noRoute(): KubernetesApiError {
    return new KubernetesApiError(404, "NotFound", "the server could not find the requested resource", {});
  }
}

function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

function withGroup(details: StatusDetails, group: string): StatusDetails {
  return group
    ? { name: details.name, group, kind: details.kind, ...(details.causes ? { causes: details.causes } : {}) }
    : details;
}
