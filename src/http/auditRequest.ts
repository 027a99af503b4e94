import { randomUUID } from "node:crypto";
import type { HttpHandler, HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import { isAudited, type AuditLog, type AuditRecord } from "../domain/policy/auditLog.js";
import { isAuthorizationDenial } from "../domain/policy/authorization.js";
import { services } from "../composition.js";

interface RequestFacts {
  principal?: Principal;
  error?: unknown;
}

// Keyed by the request object: the facts live exactly as long as the request.
const facts = new WeakMap<HttpRequest, RequestFacts>();

function factsOf(request: HttpRequest): RequestFacts {
  let f = facts.get(request);
  if (!f) facts.set(request, (f = {}));
  return f;
}

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
  if (Array.isArray(headers)) return (headers as [string, string][]).find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
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

/** Builds the audit record of a finished request (exported for tests). */
export function auditRecordOf(operationId: string, request: HttpRequest, response: HttpResponseInit | HttpResponse, principal: Principal | undefined): AuditRecord {
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
    status: response.status ?? 200,
    errorCode: headerOf(response, "x-ms-error-code"),
    requestId: headerOf(response, "x-ms-request-id") ?? "",
    clientRequestId: clientRequestId !== null && clientRequestId.length <= 256 ? clientRequestId : null,
    operationId: operationIdFrom(headerOf(response, "operation-location")),
  };
}

/**
 * Wraps an operation's HTTP handler so that, once its response is known,
 * every mutating request and every denial (401, 403, authorization 404) is
 * appended to the audit log before the response is returned. A failed audit
 * write is logged (without its message: storage errors can carry account
 * URLs) and the response is returned unchanged.
 * @param auditLog where records go (default the composition's; tests pass their own).
 */
export function withAudit(operationId: string, inner: HttpHandler, auditLog: () => AuditLog = () => services().auditLog): HttpHandler {
  return async (request: HttpRequest, invocation: InvocationContext) => {
    const response = await inner(request, invocation);
    const f = facts.get(request);
    if (!isAudited(request.method, response.status ?? 200, isAuthorizationDenial(f?.error))) return response;
    try {
      await auditLog().append(auditRecordOf(operationId, request, response, f?.principal));
    } catch (error) {
      const e = error as { name?: string; code?: string; statusCode?: number };
      invocation.error(`audit write failed for ${operationId} (${e.name ?? "Error"}${e.code ? ` ${e.code}` : ""}${e.statusCode ? ` ${e.statusCode}` : ""}); the response was still sent`);
    }
    return response;
  };
}
