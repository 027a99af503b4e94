/** One `details` entry of an API error. */
export interface SandboxErrorDetail {
  code: string;
  message: string;
  target?: string;
}

/**
 * Every failure the client reports: an API error answer (stable `code`,
 * `message`, `target`, `details`, the server's `x-ms-request-id`), a failed
 * or canceled operation (`operation` set), or a transport failure
 * (`code: "ConnectionFailed"`, `status: 0`).
 */
export class SandboxApiError extends Error {
  override readonly name = "SandboxApiError";
  /** HTTP status (0 when no answer arrived). */
  readonly status: number;
  /** The API's stable error code (`x-error-codes` in the OpenAPI document). */
  readonly code: string;
  readonly target: string | undefined;
  readonly details: readonly SandboxErrorDetail[];
  /** The server's `x-ms-request-id`: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfterSeconds: number | undefined;
  /** The operation, when this error is a failed or canceled long-running operation. */
  readonly operation: unknown;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    target?: string | undefined;
    details?: readonly SandboxErrorDetail[] | undefined;
    requestId?: string | undefined;
    retryAfterSeconds?: number | undefined;
    operation?: unknown;
    cause?: unknown;
  }) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.status = init.status;
    this.code = init.code;
    this.target = init.target;
    this.details = init.details ?? [];
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.operation = init.operation;
  }

  /** Builds the error of an API answer (`{"error":{code,message,target?,details?}}`) whatever its shape. */
  static fromResponse(response: Response, body: unknown): SandboxApiError {
    const error = (
      body as { error?: { code?: unknown; message?: unknown; target?: unknown; details?: unknown } } | undefined
    )?.error;
    const retryAfter = Number(response.headers.get("retry-after"));
    return new SandboxApiError({
      status: response.status,
      code:
        typeof error?.code === "string"
          ? error.code
          : (response.headers.get("x-ms-error-code") ?? `Http${response.status}`),
      message: typeof error?.message === "string" ? error.message : `${response.status} ${response.statusText}`.trim(),
      target: typeof error?.target === "string" ? error.target : undefined,
      details: Array.isArray(error?.details) ? (error.details as SandboxErrorDetail[]) : [],
      requestId: response.headers.get("x-ms-request-id") ?? undefined,
      retryAfterSeconds: Number.isFinite(retryAfter) && response.headers.has("retry-after") ? retryAfter : undefined,
    });
  }
}

export function isSandboxApiError(value: unknown): value is SandboxApiError {
  return value instanceof SandboxApiError;
}
