export { createSandboxClient, SandboxClient, unwrap } from "./sandboxClient.js";
export type {
  Job,
  JobLogEvent,
  JobRef,
  Operation,
  SandboxClientOptions,
  Schemas,
  TokenCredentialLike,
  TokenProvider,
  WaitOptions,
} from "./sandboxClient.js";
export { isSandboxApiError, SandboxApiError, type SandboxErrorDetail } from "./sandboxApiError.js";
export { retryAfterMs, type RetryOptions } from "./retryingFetch.js";
export { serverSentEvents, type ServerSentEvent } from "./serverSentEvents.js";
export type { components, operations, paths } from "./generated/api.js";
