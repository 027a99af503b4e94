import { randomUUID } from "node:crypto";
import type { HttpHandler, HttpMethod as FunctionsHttpMethod, HttpRequest, HttpResponseInit, HttpFunctionOptions, InvocationContext } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import { SandboxError, isSandboxError } from "../domain/sandboxError.js";
import { ERROR_STATUS } from "./errorStatus.js";
import { functionsRouteFor, openApiOperation } from "./openApiDocument.js";
import { validateRequest } from "./requestValidator.js";
import { withRepeatability } from "./operationRepeatability.js";
import { services } from "../composition.js";
import { authenticate } from "./authenticate.js";
import { authorizeRequest } from "./authorization.js";
import { noteFailure, withAudit } from "./auditRequest.js";

/** What an operation handler receives: validated inputs and the caller. */
export interface OperationContext<TBody = unknown> {
  readonly operationId: string;
  /** Path parameters (validated against the document). */
  readonly params: Readonly<Record<string, string>>;
  /** Query parameters, coerced to their schema types, defaults applied. */
  readonly query: Readonly<Record<string, unknown>>;
  /** The JSON body (validated), or undefined. */
  readonly body: TBody;
  /** The authenticated caller; `ANONYMOUS` on operations with `security: []`. */
  readonly principal: Principal;
  /** This request's id (`x-ms-request-id`), passed on to ARM as the correlation id. */
  readonly requestId: string;
  readonly request: HttpRequest;
  readonly invocation: InvocationContext;
}

/** What an operation handler returns. Status defaults to 200. */
export interface OperationResult {
  status?: number;
  /** Serialized as JSON unless `text` is given. */
  body?: unknown;
  /** A non-JSON body (with `contentType`). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type OperationHandler<TBody = unknown> = (context: OperationContext<TBody>) => Promise<OperationResult>;

export const ANONYMOUS: Principal = Object.freeze({ id: "anonymous", name: "anonymous", team: undefined, roles: Object.freeze([]), appId: undefined });

const JSON_TYPE = "application/json; charset=utf-8";

/** Builds the API error response for any thrown value; unexpected ones become 500 InternalError. */
export function errorResponse(error: unknown, invocation: InvocationContext | undefined): { status: number; headers: Record<string, string>; body: unknown } {
  if (isSandboxError(error)) {
    const headers: Record<string, string> = { "x-ms-error-code": error.code };
    if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(Math.max(0, Math.ceil(error.retryAfterSeconds)));
    if (error.code === "Unauthorized") headers["www-authenticate"] = 'Bearer error="invalid_token"';
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.target !== undefined) body.target = error.target;
    if (error.details.length > 0) body.details = error.details;
    return { status: ERROR_STATUS[error.code], headers, body: { error: body } };
  }
  // Log the cause, never return it: stacks and upstream messages can carry secrets.
  invocation?.error("unhandled error", error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error));
  return {
    status: 500,
    headers: { "x-ms-error-code": "InternalError" },
    body: { error: { code: "InternalError", message: "The server encountered an internal error. Quote the x-ms-request-id header when reporting it." } },
  };
}

async function readJsonBody(request: HttpRequest): Promise<{ hasBody: boolean; body: unknown }> {
  const text = await request.text();
  if (text.length === 0) return { hasBody: false, body: undefined };
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new SandboxError("UnsupportedMediaType", `The body must be JSON (Content-Type: application/json), got "${type || "none"}".`, { target: "header.content-type" });
  }
  try {
    return { hasBody: true, body: JSON.parse(text) as unknown };
  } catch (error) {
    throw new SandboxError("InvalidRequest", `The body is not valid JSON: ${(error as Error).message}.`, { target: "body" });
  }
}

/**
 * Wraps an operation handler into a Functions HTTP handler: request ids,
 * authentication (when the document's operation has security), validation
 * against the OpenAPI document, error mapping (API error body +
 * `x-ms-error-code`), JSON serialization.
 */
export function httpOperationHandler<TBody>(operationId: string, handler: OperationHandler<TBody>): HttpHandler {
  const entry = openApiOperation(operationId);
  return async (request, invocation): Promise<HttpResponseInit> => {
    const requestId = randomUUID();
    const clientRequestId = request.headers.get("x-ms-client-request-id");
    const baseHeaders: Record<string, string> = { "x-ms-request-id": requestId };
    if (clientRequestId !== null && clientRequestId.length <= 256) baseHeaders["x-ms-client-request-id"] = clientRequestId;
    try {
      const principal = entry.requiresAuthentication ? await authenticate(request) : ANONYMOUS;
      authorizeRequest(request, operationId, principal);
      const { hasBody, body } = await readJsonBody(request);
      const validated = validateRequest(operationId, {
        params: request.params,
        query: new URL(request.url).searchParams,
        headers: request.headers,
        body,
        hasBody,
      });
      // Idempotent retries (Repeatability-Request-ID) for every POST/PUT/DELETE.
      const result = await withRepeatability(() => services().repeatability, request, principal, validated.body, () =>
        handler({
          operationId,
          params: validated.params,
          query: validated.query,
          body: validated.body as TBody,
          principal,
          requestId,
          request,
          invocation,
        }),
      );
      const headers = { ...baseHeaders, ...(result.headers ?? {}) };
      if (result.text !== undefined) {
        return { status: result.status ?? 200, headers: { "content-type": result.contentType ?? "text/plain; charset=utf-8", ...headers }, body: result.text };
      }
      if (result.body === undefined) return { status: result.status ?? 204, headers };
      return { status: result.status ?? 200, headers: { "content-type": JSON_TYPE, ...headers }, body: JSON.stringify(result.body) };
    } catch (error) {
      noteFailure(request, error);
      const mapped = errorResponse(error, invocation);
      return { status: mapped.status, headers: { "content-type": JSON_TYPE, ...baseHeaders, ...mapped.headers }, body: JSON.stringify(mapped.body) };
    }
  };
}

/**
 * The `app.http` options for an operation of the document: route and method
 * from the document, `authLevel: "anonymous"` (the API authenticates with
 * bearer tokens itself), and the wrapped handler. The registration name must
 * be the operationId.
 */
export function httpTrigger<TBody>(operationId: string, handler: OperationHandler<TBody>): HttpFunctionOptions {
  const entry = openApiOperation(operationId);
  return {
    route: functionsRouteFor(entry.path),
    methods: [entry.method.toUpperCase() as FunctionsHttpMethod],
    authLevel: "anonymous",
    // Audited here, around the whole pipeline, so denials before the handler are recorded too.
    handler: withAudit(operationId, httpOperationHandler(operationId, handler)),
  };
}
