import type { AuditLog } from "../domain/policy/auditLog.js";
import type { TokenVerifier } from "../domain/identity/tokenVerifier.js";
import type { JobService } from "../domain/jobs/jobService.js";
import type { OperationService } from "../domain/operations/operationService.js";
import type { RepeatabilityStore } from "../domain/operations/repeatability.js";
import type { ClusterService } from "../domain/sandbox/clusterService.js";
import type { IsolationCheckService } from "../domain/sandbox/isolationCheckService.js";
import type { SandboxFeatureService } from "../domain/sandbox/sandboxFeatureService.js";
import type { SandboxPoolService } from "../domain/sandbox/sandboxPoolService.js";
import type { ReadinessCheck } from "../domain/service/readiness.js";
import type { WebhookService } from "../domain/webhooks/webhookService.js";

/**
 * What the HTTP layer uses: the domain's use-case services and the
 * pipeline's ports. `src/composition.ts` builds them (its `Services` is a
 * superset); `functions/` passes its `services` function in. The HTTP layer
 * never imports the composition root.
 */
export interface HttpServices {
  /** SANDBOX_MAX_REQUEST_BODY_BYTES: bodies over it are refused with 413 before they are buffered. */
  readonly maxRequestBodyBytes: number;
  readonly tokenVerifier: TokenVerifier;
  readonly repeatability: RepeatabilityStore;
  readonly auditLog: AuditLog;
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly clusters: ClusterService;
  readonly sandboxPools: SandboxPoolService;
  readonly sandboxFeature: SandboxFeatureService;
  readonly isolationChecks: IsolationCheckService;
  readonly operations: OperationService;
  readonly jobs: JobService;
  readonly webhooks: WebhookService;
}

/**
 * The services a handler factory uses, resolved on each request: the
 * composition root builds them on first use and throws `ServiceUnavailable`
 * when the configuration is invalid, which the pipeline answers as 503.
 */
export type ServicesSource<K extends keyof HttpServices = keyof HttpServices> = (() => Pick<HttpServices, K>) & {
  /**
   * Builds the services (the composition root imports SDKs and clients on the
   * first request, not at import: cold start). The pipeline awaits it before
   * calling the source; it never throws for a configuration problem (the
   * source then throws `ServiceUnavailable`).
   */
  readonly load?: () => Promise<void>;
};
