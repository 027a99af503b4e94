import type { KubernetesObject } from "../kubernetes/clusterKubernetes.js";

/** Labels every object we create carries. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "aks-pod-sandbox";
export const TEAM_LABEL = "aks-pod-sandbox.io/team";
export const JOB_ID_LABEL = "aks-pod-sandbox.io/job-id";
/** The one container of a job's pod. */
export const JOB_CONTAINER_NAME = "main";
export const REQUEST_ID_LABEL = "aks-pod-sandbox.io/request-id";

/** UID/GID used when the pod must not run as root and the image's user is unknown (distroless `nonroot`). */
export const NON_ROOT_UID = 65532;

export interface JobManifestInput {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  /** The flavour's sandbox runtime class; undefined for a trusted (`isolation: none`) pod. */
  readonly runtimeClassName: string | undefined;
  /** Becomes `activeDeadlineSeconds`. */
  readonly timeoutSeconds: number;
  readonly ttlSecondsAfterFinished: number;
  /** 0 by default (setting, ≤ 3). */
  readonly backoffLimit: number;
  /** Pod Security "restricted" requires it; a team policy may relax it for sandboxed jobs only. */
  readonly runAsNonRoot: boolean;
  readonly team: string;
  readonly jobId: string;
  readonly requestId: string;
  /** Pins the pod to nodes with these labels (the isolation check's trusted probe: the sandboxed probe's node). */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** The contained namespace's job ServiceAccount (no token, no bindings); absent = the namespace default. */
  readonly serviceAccountName?: string;
  /** `ephemeral-storage` request and limit of the container (`1Gi`); the kubelet evicts a job writing more. */
  readonly ephemeralStorage?: string;
}

/**
 * The batch/v1 Job for an untrusted job: one container, `restartPolicy:
 * Never`, deadline and TTL, no service-account token, no service links, no
 * host namespaces, and the Pod Security "restricted" container context
 * (no privilege escalation, all capabilities dropped, seccomp RuntimeDefault,
 * not privileged, non-root unless relaxed). The runtime class is never taken
 * from the caller. Pure; the result validates against the official schema.
 */
export function buildJobManifest(input: JobManifestInput): KubernetesObject {
  const labels: Record<string, string> = {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [TEAM_LABEL]: input.team,
    [JOB_ID_LABEL]: input.jobId,
    [REQUEST_ID_LABEL]: input.requestId,
  };
  const resources: Record<string, Record<string, string>> = {};
  if (input.limits && Object.keys(input.limits).length > 0) resources.limits = { ...input.limits };
  if (input.requests && Object.keys(input.requests).length > 0) resources.requests = { ...input.requests };
  if (input.ephemeralStorage !== undefined) {
    resources.limits = { ...(resources.limits ?? {}), "ephemeral-storage": input.ephemeralStorage };
    resources.requests = { ...(resources.requests ?? {}), "ephemeral-storage": input.ephemeralStorage };
  }
  const nonRoot = input.runAsNonRoot
    ? { runAsNonRoot: true, runAsUser: NON_ROOT_UID, runAsGroup: NON_ROOT_UID }
    : { runAsNonRoot: false };
  const container: Record<string, unknown> = {
    name: JOB_CONTAINER_NAME,
    image: input.image,
    ...(input.command && input.command.length > 0 ? { command: [...input.command] } : {}),
    ...(input.args && input.args.length > 0 ? { args: [...input.args] } : {}),
    ...(input.env && Object.keys(input.env).length > 0
      ? { env: Object.entries(input.env).map(([name, value]) => ({ name, value })) }
      : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
      ...nonRoot,
    },
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      backoffLimit: input.backoffLimit,
      activeDeadlineSeconds: input.timeoutSeconds,
      ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          ...(input.runtimeClassName ? { runtimeClassName: input.runtimeClassName } : {}),
          ...(input.nodeSelector && Object.keys(input.nodeSelector).length > 0
            ? { nodeSelector: { ...input.nodeSelector } }
            : {}),
          restartPolicy: "Never",
          ...(input.serviceAccountName ? { serviceAccountName: input.serviceAccountName } : {}),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          hostNetwork: false,
          hostPID: false,
          hostIPC: false,
          securityContext: { seccompProfile: { type: "RuntimeDefault" }, ...nonRoot },
          containers: [container],
        },
      },
    },
  };
}
