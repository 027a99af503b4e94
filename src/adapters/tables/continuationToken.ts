import { SandboxError } from "../../domain/sandboxError.js";

/**
 * The one codec of the API's opaque `continuationToken`s over Table Storage
 * paging: base64url of a small JSON object (what the adapter needs to resume,
 * e.g. the Tables continuation token and the partition it is in).
 */
export function encodeContinuation(value: object): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/**
 * Decodes a token {@link encodeContinuation} issued.
 * @param accept returns the resume state when the decoded JSON has the adapter's shape, else undefined.
 * @throws SandboxError `InvalidRequest` (target `query.continuationToken`) for anything else.
 */
export function decodeContinuation<T>(token: string, accept: (value: Record<string, unknown>) => T | undefined): T {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const accepted = accept(value as Record<string, unknown>);
      if (accepted !== undefined) return accepted;
    }
  } catch {
    // reported below
  }
  throw new SandboxError("InvalidRequest", "continuationToken is not a token this API issued.", {
    target: "query.continuationToken",
  });
}
