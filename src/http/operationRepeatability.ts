import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpRequest } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import {
  REPEATABILITY_HOURS,
  type RepeatabilityStore,
  type RepeatableResponse,
} from "../domain/operations/repeatability.js";
import { SandboxError } from "../domain/sandboxError.js";
import type { OperationResult } from "./operationHandler.js";

const MUTATING = new Set(["POST", "PUT", "DELETE", "PATCH"]);
const WINDOW_MS = REPEATABILITY_HOURS * 3600_000;
/** Wall ms a retry waits for the first execution of the same id before answering 409 + Retry-After. */
const WAIT_FOR_FIRST_MS = 20_000;

function conflict(message: string, result: "rejected" | "accepted", retryAfter?: number): OperationResult {
  const headers: Record<string, string> = { "x-ms-error-code": "Conflict", "repeatability-result": result };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  return {
    status: 409,
    headers,
    body: { error: { code: "Conflict", message, target: "header.Repeatability-Request-ID" } },
  };
}

function replay(response: RepeatableResponse): OperationResult {
  const headers = { ...response.headers, "repeatability-result": "accepted" };
  if (response.body === undefined) return { status: response.status, headers };
  if (response.isText)
    return {
      status: response.status,
      headers,
      text: response.body,
      ...(response.contentType ? { contentType: response.contentType } : {}),
    };
  return { status: response.status, headers, body: JSON.parse(response.body) as unknown };
}

/**
 * Idempotent retries for every POST/PUT/DELETE (docs/api-conventions.md): with a
 * `Repeatability-Request-ID` header, the first execution's response is kept
 * 24 h (Table Storage, shared by all instances) and replayed to retries with
 * the same caller, method, path, query and body (`Repeatability-Result:
 * accepted`); the same id with anything different answers 409 `Conflict`
 * with `Repeatability-Result: rejected`. Concurrent duplicates wait for the
 * first execution. A `Repeatability-First-Sent` older than 24 h is rejected
 * (400). Failed executions (thrown errors) are not kept, so a retry runs again.
 * Without the header, or for other methods, `run` simply runs. `run` gets the
 * request's repeatability key: a try that takes over from one that died
 * mid-request (see the store's pending lease) runs again, and a use case that
 * is not naturally idempotent recognizes the dead try's work by that key.
 */
export async function withRepeatability(
  store: () => RepeatabilityStore,
  request: HttpRequest,
  principal: Principal,
  body: unknown,
  run: (repeatabilityKey?: string) => Promise<OperationResult>,
): Promise<OperationResult> {
  const id = request.headers.get("repeatability-request-id");
  if (id === null || !MUTATING.has(request.method.toUpperCase())) return run();
  if (!/^[\x21-\x7e]{1,128}$/.test(id)) {
    throw new SandboxError(
      "InvalidRequest",
      "Repeatability-Request-ID must be 1 to 128 visible ASCII characters (a UUID is recommended).",
      { target: "header.Repeatability-Request-ID" },
    );
  }
  const firstSent = request.headers.get("repeatability-first-sent");
  if (firstSent !== null) {
    const sent = Date.parse(firstSent);
    if (Number.isNaN(sent))
      throw new SandboxError(
        "InvalidRequest",
        "Repeatability-First-Sent must be an HTTP date (RFC 7231 IMF-fixdate).",
        { target: "header.Repeatability-First-Sent" },
      );
    if (Date.now() - sent > WINDOW_MS) {
      const r: OperationResult = {
        status: 400,
        headers: { "x-ms-error-code": "InvalidRequest", "repeatability-result": "rejected" },
        body: {
          error: {
            code: "InvalidRequest",
            message: `The request was first sent more than ${REPEATABILITY_HOURS} h ago; retry with a new Repeatability-Request-ID.`,
            target: "header.Repeatability-First-Sent",
          },
        },
      };
      return r;
    }
  }
  const url = new URL(request.url);
  const query = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fingerprint = createHash("sha256")
    .update(
      `${request.method.toUpperCase()} ${url.pathname.toLowerCase()}?${new URLSearchParams(query).toString()}\n${JSON.stringify(body ?? null)}`,
    )
    .digest("hex");
  const key = createHash("sha256").update(`${principal.id}\n${id}`).digest("hex");
  const repeatability = store();

  const reservation = await repeatability.reserve(key, fingerprint, Date.now() + WINDOW_MS);
  if (!reservation.reserved) {
    let existing = reservation.existing;
    if (existing.fingerprint !== fingerprint)
      return conflict(
        "This Repeatability-Request-ID was used for a different request (method, path, query or body).",
        "rejected",
      );
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (let wait = 20; existing.state === "pending"; wait = Math.min(500, wait * 2)) {
      if (Date.now() > deadline)
        return conflict(
          "The first request with this Repeatability-Request-ID is still running; retry shortly.",
          "accepted",
          1,
        );
      await sleep(wait);
      const next = await repeatability.get(key);
      if (!next)
        return conflict(
          "The first request with this Repeatability-Request-ID failed; retry with the same id to run it again.",
          "accepted",
          1,
        );
      existing = next;
    }
    return replay(existing.response!);
  }

  let result: OperationResult;
  try {
    result = await run(key);
  } catch (error) {
    await repeatability.release(key).catch(() => undefined);
    throw error;
  }
  const status = result.status ?? (result.body === undefined && result.text === undefined ? 204 : 200);
  if (status >= 500) {
    await repeatability.release(key).catch(() => undefined);
    return result;
  }
  const stored: RepeatableResponse = { status, headers: { ...(result.headers ?? {}) } };
  if (result.text !== undefined) {
    stored.body = result.text;
    stored.isText = true;
    if (result.contentType) stored.contentType = result.contentType;
  } else if (result.body !== undefined) stored.body = JSON.stringify(result.body);
  await repeatability.complete(key, stored);
  return { ...result, status, headers: { ...(result.headers ?? {}), "repeatability-result": "accepted" } };
}
