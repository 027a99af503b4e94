import { randomUUID } from "node:crypto";
import type {
  HttpHandler,
  HttpMethod as FunctionsHttpMethod,
  HttpRequest,
  HttpResponseInit,
  HttpFunctionOptions,
  InvocationContext,
} from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import { isSandboxError } from "../domain/sandboxError.js";
import { ERROR_STATUS } from "./errorStatus.js";
import { functionsRouteFor, openApiOperation } from "./openApiDocument.js";
import { loadRequestValidation, validateRequest } from "./requestValidator.js";
import { withRepeatability } from "./operationRepeatability.js";
import type { ServicesSource } from "./httpServices.js";
import type { OperationHandler } from "./operationHandler.js";

export type { OperationContext, OperationHandler, OperationResult } from "./operationHandler.js";
import { authenticate } from "./authenticate.js";
import { authorizeRequest } from "./authorization.js";
import { auditBeforeChange, noteFailure, withAudit } from "./auditRequest.js";
import type * as Tracing from "../telemetry/tracing.js";
import { readJsonRequestBody } from "./requestBody.js";

let tracingModule: Promise<typeof Tracing> | undefined;

/**
 * OpenTelemetry (and Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING
 * is set), imported on the first request rather than at registration: the
 * OpenTelemetry packages are no part of a cold start (`npm run bench`: coldStart).
 */
function loadTracing(): Promise<typeof Tracing> {
  tracingModule ??= import("../telemetry/tracing.js").then(async (tracing) => {
    await tracing.startTelemetry();
    return tracing;
  });
  return tracingModule;
}

export const ANONYMOUS: Principal = Object.freeze({
  id: "anonymous",
  name: "anonymous",
  team: undefined,
  roles: Object.freeze([]),
  appId: undefined,
});

const JSON_TYPE = "application/json; charset=utf-8";
/** `Retry-After` of a 503 whose cause named no wait (an upstream 5xx or reset without one). */
export const DEFAULT_UNAVAILABLE_RETRY_SECONDS = 5;

/** Builds the API error response for any thrown value; unexpected ones become 500 InternalError. */
export function errorResponse(
  error: unknown,
  invocation: InvocationContext | undefined,
): { status: number; headers: Record<string, string>; body: unknown } {
  if (isSandboxError(error)) {
    const headers: Record<string, string> = { "x-ms-error-code": error.code };
    const status = ERROR_STATUS[error.code];
    // A 503 always says when to come back (clients and SDKs retry it), even when the cause gave no hint.
    const retryAfter = error.retryAfterSeconds ?? (status === 503 ? DEFAULT_UNAVAILABLE_RETRY_SECONDS : undefined);
    if (retryAfter !== undefined) headers["retry-after"] = String(Math.max(0, Math.ceil(retryAfter)));
    if (error.code === "Unauthorized") headers["www-authenticate"] = 'Bearer error="invalid_token"';
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.target !== undefined) body.target = error.target;
    if (error.details.length > 0) body.details = error.details;
    return { status, headers, body: { error: body } };
  }
  // Log the cause, never return it: stacks and upstream messages can carry secrets.
  invocation?.error(
    "unhandled error",
    error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error),
  );
  return {
    status: 500,
    headers: { "x-ms-error-code": "InternalError" },
    body: {
      error: {
        code: "InternalError",
        message: "The server encountered an internal error. Quote the x-ms-request-id header when reporting it.",
      },
    },
  };
}

/**
 * Wraps an operation handler into a Functions HTTP handler: request ids,
 * authentication (when the document's operation has security), validation
 * against the OpenAPI document, error mapping (API error body +
 * `x-ms-error-code`), JSON serialization.
 */
export function httpOperationHandler<TBody>(
  operationId: string,
  handler: OperationHandler<TBody>,
  services: ServicesSource<"tokenVerifier" | "repeatability" | "maxRequestBodyBytes">,
): HttpHandler {
  const entry = openApiOperation(operationId);
  const takesBody = entry.operation.requestBody !== undefined;
  return async (request, invocation): Promise<HttpResponseInit> => {
    const { callerContext, inSpan, SpanKind } = await loadTracing();
    // One server span per request, child of the caller's W3C traceparent when it sent one.
    return inSpan(
      `HTTP ${operationId}`,
      {
        kind: SpanKind.SERVER,
        parent: callerContext(request.headers),
        attributes: { "http.request.method": request.method, "http.route": entry.path, "operation.name": operationId },
      },
      async (span) => {
        const response = await handle(request, invocation);
        span.setAttribute("http.response.status_code", response.status ?? 200);
        const requestId = (response.headers as Record<string, string> | undefined)?.["x-ms-request-id"];
        if (requestId) span.setAttribute("request.id", requestId);
        return response;
      },
    );
  };
  async function handle(request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> {
    const requestId = randomUUID();
    const clientRequestId = request.headers.get("x-ms-client-request-id");
    const baseHeaders: Record<string, string> = { "x-ms-request-id": requestId };
    if (clientRequestId !== null && clientRequestId.length <= 256)
      baseHeaders["x-ms-client-request-id"] = clientRequestId;
    try {
      // SDKs, clients and validators load on the first request that needs them, not at
      // import (cold start); healthz, openapi.json and docs need no services.
      await Promise.all([entry.requiresAuthentication ? services.load?.() : undefined, loadRequestValidation()]);
      const principal = entry.requiresAuthentication
        ? await authenticate(request, () => services().tokenVerifier)
        : ANONYMOUS;
      authorizeRequest(request, operationId, principal);
      const { hasBody, body } = await readJsonRequestBody(request, {
        takesBody,
        maxBytes: takesBody ? services().maxRequestBodyBytes : 0,
      });
      const validated = validateRequest(operationId, {
        params: request.params,
        query: new URL(request.url).searchParams,
        headers: request.headers,
        body,
        hasBody,
      });
      // A change is audited before it is made; a record that cannot be written refuses the request (503).
      await auditBeforeChange(request, operationId, principal, requestId, invocation);
      // Idempotent retries (Repeatability-Request-ID) for every POST/PUT/DELETE.
      const result = await withRepeatability(
        () => services().repeatability,
        request,
        principal,
        validated.body,
        (repeatabilityKey) =>
          handler({
            operationId,
            params: validated.params,
            query: validated.query,
            body: validated.body as TBody,
            principal,
            requestId,
            ...(repeatabilityKey === undefined ? {} : { repeatabilityKey }),
            request,
            invocation,
          }),
      );
      const headers = { ...baseHeaders, ...(result.headers ?? {}) };
      if (result.stream !== undefined) {
        return {
          status: result.status ?? 200,
          headers: { "content-type": result.contentType ?? "application/octet-stream", ...headers },
          body: result.stream,
        };
      }
      if (result.text !== undefined) {
        return {
          status: result.status ?? 200,
          headers: { "content-type": result.contentType ?? "text/plain; charset=utf-8", ...headers },
          body: result.text,
        };
      }
      if (result.body === undefined) return { status: result.status ?? 204, headers };
      return {
        status: result.status ?? 200,
        headers: { "content-type": JSON_TYPE, ...headers },
        body: JSON.stringify(result.body),
      };
    } catch (error) {
      noteFailure(request, error);
      const mapped = errorResponse(error, invocation);
      return {
        status: mapped.status,
        headers: { "content-type": JSON_TYPE, ...baseHeaders, ...mapped.headers },
        body: JSON.stringify(mapped.body),
      };
    }
  }
}

/** Builds the `app.http` options of one operation (see {@link httpTriggers}). */
export type HttpTriggerFactory = <TBody>(operationId: string, handler: OperationHandler<TBody>) => HttpFunctionOptions;

/**
 * The pipeline bound to the services it uses (token verifier, repeatability
 * store, audit log): returns the `app.http` options for an operation of the
 * document — route and method from the document, `authLevel: "anonymous"`
 * (the API authenticates with bearer tokens itself), and the wrapped
 * handler. The registration name must be the operationId.
 */
export function httpTriggers(
  services: ServicesSource<"tokenVerifier" | "repeatability" | "auditLog" | "maxRequestBodyBytes">,
): HttpTriggerFactory {
  // Azure Monitor only when APPLICATIONINSIGHTS_CONNECTION_STRING is set: then started now, not on the first request.
  if (process.env.APPLICATIONINSIGHTS_CONNECTION_STRING) void loadTracing();
  return (operationId, handler) => {
    const entry = openApiOperation(operationId);
    return {
      route: functionsRouteFor(entry.path),
      methods: [entry.method.toUpperCase() as FunctionsHttpMethod],
      authLevel: "anonymous",
      // Audited here, around the whole pipeline, so denials before the handler are recorded too.
      handler: withAudit(operationId, httpOperationHandler(operationId, handler, services), () => services().auditLog),
    };
  };
}
