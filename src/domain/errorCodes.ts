/**
 * The stable error codes of the API. Each code has exactly one HTTP status,
 * assigned in `src/http/errorStatus.ts` (the domain knows no status codes),
 * and is listed with that status in `openapi/openapi.json`
 * (`x-error-codes`); a contract test keeps the three in step.
 */
export const ERROR_CODES = [
  "InvalidRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "MethodNotAllowed",
  "Conflict",
  "PreconditionFailed",
  "PayloadTooLarge",
  "UnsupportedMediaType",
  "UnsupportedVmSize",
  "UnsupportedOsSku",
  "KubernetesVersionTooOld",
  "FeatureNotRegistered",
  "SandboxNotReady",
  "HostNetworkNotSupported",
  "SandboxTooLarge",
  "WebhookTargetNotAllowed",
  "QuotaExceeded",
  "JobLimitExceeded",
  "NetworkPolicyUnsupported",
  "UpstreamThrottled",
  "UpstreamUnavailable",
  "UpstreamFailed",
  "OperationTimedOut",
  "ServiceUnavailable",
  "InternalError",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}
