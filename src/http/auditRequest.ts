import { randomUUID } from "node:crypto";
import type { HttpHandler, HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import { isAudited, isMutating, type AuditLog, type AuditRecord } from "../domain/policy/auditLog.js";
import { isAuthorizationDenial } from "../domain/policy/authorization.js";
import { SandboxError } from "../domain/sandboxError.js";

interface RequestFacts {
  principal?: Principal;
  error?: unknown;
  /** Set by {@link withAudit}: writes the record of a change before it is made. */
  beginChange?: (record: AuditRecord) => Promise<void>;
  /** The record written before the change; its outcome is settled once the response is known. */
  pending?: AuditRecord;
  /** The record could not be written before the change: the request was refused (503), nothing to record. */
  refused?: boolean;
}

// Keyed by the request object: the facts live exactly as long as the request.
const facts = new WeakMap<HttpRequest, RequestFacts>();

function factsOf(request: HttpRequest): RequestFacts {
  let f = facts.get(request);
  if (!f) facts.set(request, (f = {}));
  return f;
}

/** `Retry-After` of a request refused because its audit record could not be written. */
export const AUDIT_UNAVAILABLE_RETRY_SECONDS = 5;
/** Distinct sources counted per minute; 401s from further sources are counted under `(other)`. */
const MAX_SOURCES_PER_MINUTE = 1000;

/** Records the authenticated caller of a request, for its audit record. */
export function notePrincipal(request: HttpRequest, principal: Principal): void {
  factsOf(request).principal = principal;
}

/** Records the error a request failed with, so scope-check 404s are audited. */
export function noteFailure(request: HttpRequest, error: unknown): void {
  factsOf(request).error = error;
}

function headerOf(response: HttpResponseInit | HttpResponse, name: string): string | null {
  const headers = response.headers as unknown;
  if (headers === undefined || headers === null) return null;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name);
  if (Array.isArray(headers))
    return (headers as [string, string][]).find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
  const entry = Object.entries(headers as Record<string, string>).find(([n]) => n.toLowerCase() === name);
  return entry?.[1] ?? null;
}

/** `/api/v1/operations/op_1?x` → `op_1`. */
function operationIdFrom(location: string | null): string | null {
  if (location === null) return null;
  const path = location.split(/[?#]/)[0] ?? "";
  const match = /\/operations\/([^/]+)\/?$/.exec(path);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}

/**
 * The caller's address: the first `X-Forwarded-For` entry (the Functions front end sets it), else `X-Client-IP`.
 * Anything but an address (with port) is `(invalid)`: the header is the caller's to forge, so it never reaches
 * a record unchecked.
 */
export function clientSource(request: HttpRequest): string | null {
  const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  const candidate = forwarded || request.headers.get("x-client-ip")?.trim() || "";
  if (candidate === "") return null;
  return /^[0-9A-Fa-f.:[\]%]{1,64}$/.test(candidate) ? candidate : "(invalid)";
}

function describe(error: unknown): string {
  const e = error as { name?: string; code?: string; statusCode?: number };
  return `${e.name ?? "Error"}${e.code ? ` ${e.code}` : ""}${e.statusCode ? ` ${e.statusCode}` : ""}`;
}

/** The parts of a record known before the response. */
function requestRecord(
  operationId: string,
  request: HttpRequest,
  principal: Principal | undefined,
  requestId: string,
): AuditRecord {
  const clientRequestId = request.headers.get("x-ms-client-request-id");
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    principalId: principal?.id ?? null,
    principalName: principal?.name ?? null,
    appId: principal?.appId ?? null,
    team: principal?.team ?? null,
    action: operationId,
    method: request.method.toUpperCase(),
    target: new URL(request.url).pathname,
    status: null,
    errorCode: null,
    requestId,
    clientRequestId: clientRequestId !== null && clientRequestId.length <= 256 ? clientRequestId : null,
    operationId: null,
    source: clientSource(request),
    count: 1,
  };
}

/** Builds the audit record of a finished request (exported for tests). */
export function auditRecordOf(
  operationId: string,
  request: HttpRequest,
  response: HttpResponseInit | HttpResponse,
  principal: Principal | undefined,
): AuditRecord {
  return {
    ...requestRecord(operationId, request, principal, headerOf(response, "x-ms-request-id") ?? ""),
    ...outcomeOf(response),
  };
}

function outcomeOf(
  response: HttpResponseInit | HttpResponse,
): Pick<AuditRecord, "status" | "errorCode" | "operationId"> {
  return {
    status: response.status ?? 200,
    errorCode: headerOf(response, "x-ms-error-code"),
    operationId: operationIdFrom(headerOf(response, "operation-location")),
  };
}

/**
 * Called by the pipeline once a mutating request is authenticated, authorized and valid, right before the
 * handler may change anything: writes its audit record (outcome still null). Writing first is the only order in
 * which nothing changes unaudited — a record written after the change could fail once the change is made, and a
 * change cannot be taken back. When the record cannot be written the request is refused with 503
 * `ServiceUnavailable` and `Retry-After`, and the handler never runs. Requests refused earlier (401, 403, 400)
 * change nothing and are recorded after their response, as reads are.
 * @throws SandboxError `ServiceUnavailable` when the audit log cannot take the record.
 */
export async function auditBeforeChange(
  request: HttpRequest,
  operationId: string,
  principal: Principal | undefined,
  requestId: string,
  invocation: InvocationContext,
): Promise<void> {
  const f = facts.get(request);
  if (!f?.beginChange || !isMutating(request.method)) return;
  const record = requestRecord(operationId, request, principal, requestId);
  try {
    await f.beginChange(record);
  } catch (error) {
    f.refused = true;
    // Without the error's message: storage errors can carry account URLs.
    invocation.error(`audit write failed for ${operationId} (${describe(error)}); the request was refused (503)`);
    throw new SandboxError(
      "ServiceUnavailable",
      "The audit log could not be written, so the request was not performed (every change is audited before it is made). Retry after the Retry-After interval.",
      { retryAfterSeconds: AUDIT_UNAVAILABLE_RETRY_SECONDS },
    );
  }
  f.pending = record;
}

interface UnauthenticatedWindow {
  readonly minute: number;
  /** The requests after the first (which was written at once): counted, written when the minute is over. */
  counted: number;
  record: AuditRecord | undefined;
}

/**
 * Unauthenticated requests (401) of one source and minute become at most two records: the first is written at
 * once (count 1), the rest are counted and written as one record (their count) when the minute is over. A
 * flood of 401s therefore cannot throttle the audit table and crowd out the records that matter. Counts of a
 * minute in progress live in this process only: a process that stops loses them (never the first record).
 */
class UnauthenticatedAudit {
  readonly #windows = new Map<string, UnauthenticatedWindow>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly auditLog: AuditLog,
    private readonly now: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async note(record: AuditRecord): Promise<void> {
    const minute = Math.floor(this.now() / 60_000);
    await this.flush(minute);
    let source = record.source;
    let key = `${minute}|${source ?? ""}`;
    if (!this.#windows.has(key) && this.#windows.size >= MAX_SOURCES_PER_MINUTE) {
      source = "(other)";
      key = `${minute}|${source}`;
    }
    const window = this.#windows.get(key);
    if (window) {
      window.counted++;
      window.record = window.record === undefined ? { ...record, source } : merged(window.record, record);
      return;
    }
    this.#windows.set(key, { minute, counted: 0, record: undefined });
    this.#schedule();
    await this.auditLog.append({ ...record, source, count: 1 });
  }

  /** Writes the counts of every minute before `beforeMinute` (all of them by default). */
  async flush(beforeMinute = Number.POSITIVE_INFINITY): Promise<void> {
    const due = [...this.#windows].filter(([, w]) => w.minute < beforeMinute);
    for (const [key] of due) this.#windows.delete(key);
    for (const [, w] of due) {
      if (w.record === undefined || w.counted === 0) continue;
      try {
        await this.auditLog.append({ ...w.record, id: randomUUID(), count: w.counted });
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /** Writes a finished minute's counts even when no further 401 arrives; never keeps the process alive. */
  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = 60_000 - (this.now() % 60_000) + 1_000;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush(Math.floor(this.now() / 60_000)).then(() => {
        if (this.#windows.size > 0) this.#schedule();
      });
    }, wait);
    this.#timer.unref?.();
  }
}

/** One record for several requests: what they share, `*` where they differ; the latest time. */
function merged(into: AuditRecord, next: AuditRecord): AuditRecord {
  return {
    ...into,
    action: into.action === next.action ? into.action : "*",
    method: into.method === next.method ? into.method : "*",
    target: into.target === next.target ? into.target : "*",
    errorCode: into.errorCode === next.errorCode ? into.errorCode : null,
    clientRequestId: null,
    time: next.time,
  };
}

// One counter per audit log (the composition's, or a test's own).
const unauthenticated = new WeakMap<AuditLog, UnauthenticatedAudit>();

/** Writes the pending 401 counts of `auditLog` now (tests; a host about to stop). */
export async function flushUnauthenticatedAudit(auditLog: AuditLog): Promise<void> {
  await unauthenticated.get(auditLog)?.flush();
}

/** Options of {@link withAudit} (tests). */
export interface AuditOptions {
  /** The clock of the 401 minutes (epoch ms). */
  now?: () => number;
}

/**
 * Wraps an operation's HTTP handler so that every mutating request and every denial (401, 403, authorization
 * 404) is audited. A mutating request that reaches its handler is recorded before the handler runs (see
 * {@link auditBeforeChange}) and its outcome settled afterwards; everything else is appended once its response
 * is known, 401s counted per source and minute. A failed write after the response is logged (without its
 * message: storage errors can carry account URLs) and the response is returned unchanged: either nothing
 * changed, or the change's record was written before it.
 * @param auditLog where records go, resolved per request (the composition's; tests pass their own).
 */
export function withAudit(
  operationId: string,
  inner: HttpHandler,
  auditLog: () => AuditLog,
  options: AuditOptions = {},
): HttpHandler {
  return async (request: HttpRequest, invocation: InvocationContext) => {
    const f = factsOf(request);
    f.beginChange = (record) => auditLog().append(record);
    const response = await inner(request, invocation);
    if (f.refused) return response;
    const failed = (error: unknown, what: string) =>
      invocation.error(`audit write failed for ${operationId} (${describe(error)}); ${what}`);
    if (f.pending) {
      try {
        await auditLog().settle({ ...f.pending, ...outcomeOf(response) });
      } catch (error) {
        failed(error, "its record (written before the change) keeps no outcome");
      }
      return response;
    }
    if (!isAudited(request.method, response.status ?? 200, isAuthorizationDenial(f.error))) return response;
    const record = auditRecordOf(operationId, request, response, f.principal);
    try {
      if (record.status === 401 && f.principal === undefined) {
        const log = auditLog();
        let counter = unauthenticated.get(log);
        if (!counter) {
          counter = new UnauthenticatedAudit(log, options.now ?? Date.now, (error) =>
            failed(error, "a count of unauthenticated requests was lost"),
          );
          unauthenticated.set(log, counter);
        }
        await counter.note(record);
      } else {
        await auditLog().append(record);
      }
    } catch (error) {
      failed(error, "the response was still sent");
    }
    return response;
  };
}
