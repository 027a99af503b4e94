import { RestError } from "@azure/data-tables";
import { SandboxError } from "../../domain/sandboxError.js";

/**
 * The one place Table Storage (SDK) errors are read and translated: every
 * table adapter asks {@link statusOf} and throws {@link storageError}, so a
 * `RestError` never escapes an adapter (it would be answered as a 500).
 */

/** The HTTP status of a Tables SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof RestError) return error.statusCode;
  const status = (error as { statusCode?: unknown } | null | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/**
 * A storage failure as `SandboxError` — `ServiceUnavailable` (503, retried
 * by clients after 5 s), never with the connection string or the SDK's raw
 * message (kept as `cause` for the log). A `SandboxError` passes unchanged.
 * @param what what was being done, for the message ("reading a job").
 */
export function storageError(error: unknown, what: string): SandboxError {
  if (error instanceof SandboxError) return error;
  const status = statusOf(error);
  return new SandboxError(
    "ServiceUnavailable",
    `Table Storage failed while ${what}${status ? ` (HTTP ${status})` : ""}.`,
    { retryAfterSeconds: 5, cause: error },
  );
}

/**
 * A conditional row write's failure: 412 → `PreconditionFailed` (the row
 * changed since it was read), 409 → `Conflict` (the row exists), anything
 * else as {@link storageError}.
 */
export function rowWriteError(error: unknown, what: string, row = "row"): SandboxError {
  const status = statusOf(error);
  if (status === 412)
    return new SandboxError("PreconditionFailed", `The ${row} changed while ${what}.`, { cause: error });
  if (status === 409) return new SandboxError("Conflict", `The ${row} already exists (${what}).`, { cause: error });
  return storageError(error, what);
}
