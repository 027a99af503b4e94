import type { ErrorCode } from "../domain/errorCodes.js";

/**
 * The one place where error codes become HTTP statuses. The OpenAPI
 * document's `x-error-codes` must list the same codes with the same statuses
 * (test/contract/openapiDocument.test.ts).
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  InvalidRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  UnsupportedVmSize: 422,
  UnsupportedOsSku: 422,
  KubernetesVersionTooOld: 422,
  FeatureNotRegistered: 409,
  SandboxNotReady: 409,
  HostNetworkNotSupported: 422,
  SandboxTooLarge: 422,
  WebhookTargetNotAllowed: 422,
  QuotaExceeded: 429,
  JobLimitExceeded: 422,
  NetworkPolicyUnsupported: 409,
  UpstreamThrottled: 503,
  UpstreamUnavailable: 503,
  UpstreamFailed: 502,
  OperationTimedOut: 504,
  ServiceUnavailable: 503,
  InternalError: 500,
});
