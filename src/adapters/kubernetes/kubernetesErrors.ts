import { ApiException } from "@kubernetes/client-node";
import { SandboxError } from "../../domain/sandboxError.js";

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === "object" ? body : undefined;
}

/**
 * Translates a client-node error (ApiException with a Kubernetes `Status`
 * body, or a network failure) into a `SandboxError` before it crosses the
 * port. Messages carry the API server's reason and message — never
 * credentials (a Status message does not contain the bearer token).
 */
export function kubernetesError(error: unknown, what: string): SandboxError {
  if (error instanceof SandboxError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const detail = status?.message ? `: ${status.message}` : "";
    const reason = status?.reason ?? String(error.code);
    const details = (status?.details?.causes ?? []).map((c) => ({
      code: c.reason ?? "Invalid",
      message: c.message ?? "invalid",
      ...(c.field ? { target: c.field } : {}),
    }));
    switch (error.code) {
      case 404:
        return new SandboxError("NotFound", `${what}: not found in the cluster${detail}`);
      case 409:
        return new SandboxError("Conflict", `${what}: ${reason}${detail}`);
      case 400:
      case 422:
        return new SandboxError("UpstreamFailed", `${what}: the cluster rejected the object (${reason})${detail}`, {
          details,
        });
      case 401:
      case 403:
        return new SandboxError("UpstreamFailed", `${what}: the cluster refused our credentials (${reason})${detail}`);
      case 429:
        return new SandboxError("UpstreamThrottled", `${what}: the cluster API is throttling${detail}`, {
          retryAfterSeconds: Number(error.headers?.["retry-after"] ?? 5) || 5,
        });
      default:
        if (error.code >= 500)
          return new SandboxError("UpstreamUnavailable", `${what}: the cluster API answered ${error.code}${detail}`, {
            retryAfterSeconds: 5,
          });
        return new SandboxError("UpstreamFailed", `${what}: the cluster API answered ${error.code}${detail}`);
    }
  }
  const code =
    (error as { code?: string } | undefined)?.code ?? (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  return new SandboxError(
    "UpstreamUnavailable",
    `${what}: the cluster API could not be reached${code ? ` (${code})` : ""}`,
    { retryAfterSeconds: 5 },
  );
}
