import { RestError } from "@azure/core-rest-pipeline";
import { SandboxError } from "../../domain/sandboxError.js";

/** ARM's error body: `{error:{code,message,target?}}` (CloudError / ErrorResponse). */
function armErrorBody(error: RestError): { code?: string; message?: string; target?: string } {
  const details = (error as { details?: unknown }).details as
    { error?: { code?: string; message?: string; target?: string } } | undefined;
  if (details?.error && typeof details.error === "object") return details.error;
  const text = error.response?.bodyAsText;
  if (text) {
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; target?: string } };
      if (parsed.error) return parsed.error;
    } catch {
      // not JSON
    }
  }
  return { code: error.code, message: error.message };
}

/** Wall ms from `retry-after-ms` / `x-ms-retry-after-ms` / `Retry-After` (seconds or HTTP date), if any. */
export function retryAfterMsFrom(
  get: (name: string) => string | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = get("retry-after-ms") ?? get("x-ms-retry-after-ms");
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const ra = get("retry-after");
  if (ra === undefined) return undefined;
  if (/^\d+$/.test(ra.trim())) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Translates anything an Azure SDK call threw into a {@link SandboxError}
 * (adapters never let `RestError` cross a port):
 * 429 → `UpstreamThrottled` with the Retry-After; 5xx, resets and timeouts →
 * `UpstreamUnavailable`; other 4xx → `UpstreamFailed` carrying ARM's code
 * (in `details[0]`) and message. `what` names the call for the message.
 */
export function translateArmError(error: unknown, what: string): SandboxError {
  if (error instanceof SandboxError) return error;
  if (error instanceof RestError || (error as { name?: string }).name === "RestError") {
    const rest = error as RestError;
    const status = rest.statusCode;
    const header = (name: string): string | undefined => rest.response?.headers.get(name) ?? undefined;
    if (status === 429) {
      const ms = retryAfterMsFrom(header);
      return new SandboxError("UpstreamThrottled", `Azure throttled ${what}; retry later.`, {
        retryAfterSeconds: ms === undefined ? 10 : ms / 1000,
        cause: error,
      });
    }
    if (status === undefined || status >= 500 || status === 408) {
      const ms = retryAfterMsFrom(header);
      return new SandboxError(
        "UpstreamUnavailable",
        `Azure did not answer ${what}${status ? ` (HTTP ${status})` : rest.code ? ` (${rest.code})` : ""}; retry later.`,
        {
          ...(ms !== undefined ? { retryAfterSeconds: ms / 1000 } : {}),
          cause: error,
        },
      );
    }
    const body = armErrorBody(rest);
    const code = body.code ?? `Http${status}`;
    const message = body.message ?? `HTTP ${status}`;
    return new SandboxError("UpstreamFailed", `Azure refused ${what}: ${code}: ${message}`, {
      details: [{ code, message, ...(body.target ? { target: body.target } : {}) }],
      cause: error,
    });
  }
  const name = (error as { name?: string }).name;
  const code = (error as { code?: string }).code;
  if (
    name === "AbortError" ||
    name === "TimeoutError" ||
    (typeof code === "string" && /^(E[A-Z]+|UND_ERR.*)$/.test(code))
  ) {
    return new SandboxError("UpstreamUnavailable", `Azure did not answer ${what} (${code ?? name}); retry later.`, {
      cause: error,
    });
  }
  return new SandboxError("UpstreamUnavailable", `Calling Azure for ${what} failed unexpectedly; retry later.`, {
    cause: error,
  });
}
