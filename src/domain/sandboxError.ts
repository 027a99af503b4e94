import type { ErrorCode } from "./errorCodes.js";

/** One field-level problem inside a {@link SandboxError}. */
export interface ErrorDetail {
  /** An {@link ErrorCode}, or an upstream code carried through (e.g. ARM's). */
  code: string;
  message: string;
  target?: string;
}

/**
 * The single error type of the product. Domain code and adapters throw it
 * with a stable {@link ErrorCode}; only the HTTP layer turns it into a status
 * and the API error body. Messages are shown to callers, so they must never
 * contain secrets (tokens, kubeconfigs, keys, connection strings).
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
  readonly code: ErrorCode;
  readonly target: string | undefined;
  readonly details: readonly ErrorDetail[];
  /** Seconds the caller should wait before retrying (sent as `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { target?: string; details?: readonly ErrorDetail[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.target = options.target;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isSandboxError(value: unknown): value is SandboxError {
  return value instanceof SandboxError;
}
