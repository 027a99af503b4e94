import type { HttpRequest, InvocationContext } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";

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
  /**
   * Set when the request carries a `Repeatability-Request-ID`: the same on every try of that request (a hash of
   * the caller and the id, nothing secret). A use case whose work is not naturally idempotent records it, so that a
   * retry taking over from a try that died mid-way recognizes that try's work as its own.
   */
  readonly repeatabilityKey?: string;
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
  /** A streamed body (with `contentType`): sent as it is read (HTTP streaming). */
  stream?: ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
}

export type OperationHandler<TBody = unknown> = (context: OperationContext<TBody>) => Promise<OperationResult>;
