/**
 * The API server's admission chain for a Pod (RuntimeClass, ServiceAccount,
 * LimitRanger, Pod Security Admission, ResourceQuota) plus its defaulting.
 * Used for pods the client creates and pods the job controller creates.
 */
import { randomUUID } from "node:crypto";
import type { ClusterState, PodRecord } from "./clusterState.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import { k8sTime, type PodObject, type PodSpec } from "./kubernetesObjects.js";
import type { NamespacedObjectStore } from "./namespacedObjectStore.js";
import { podSecurityRejection } from "./podSecurityAdmission.js";
import { defaultContainer, qosClass } from "./podSpecDefaults.js";
import { applyLimitRangeDefaults, limitRangeRejection, quotaRejection, sumUsage } from "./resourceAdmission.js";

/**
 * RuntimeClass admission plus apiserver defaulting. `displayName` is what
 * the Forbidden message names (for a Job's pods: the generateName prefix).
 */
export function admitPod(
  state: ClusterState,
  objects: NamespacedObjectStore,
  namespace: string,
  object: PodObject,
  displayName: string,
): PodObject {
  const spec: PodSpec = structuredClone(object.spec);
  if (spec.runtimeClassName) {
    const rc = state.runtimeClasses().find((r) => r.name === spec.runtimeClassName);
    if (!rc)
      throw KubernetesApiError.forbidden(
        "pods",
        "",
        displayName,
        `pod rejected: RuntimeClass "${spec.runtimeClassName}" not found`,
      );
    // The RuntimeClass admission plugin merges the class's scheduling constraints into the pod.
    spec.nodeSelector = { ...(spec.nodeSelector ?? {}), ...rc.nodeSelector };
  }
  // ServiceAccount admission: the account must exist.
  const accountName = typeof spec.serviceAccountName === "string" ? spec.serviceAccountName : "default";
  const account = objects.raw("serviceaccounts", namespace).find((a) => a.metadata.name === accountName);
  if (!account) {
    throw KubernetesApiError.forbidden(
      "pods",
      "",
      displayName,
      `error looking up service account ${namespace}/${accountName}: serviceaccount "${accountName}" not found`,
    );
  }
  // LimitRanger (mutating), then the validating plugins in the API server's order.
  const limitRanges = objects.raw("limitranges", namespace);
  applyLimitRangeDefaults(spec, limitRanges);
  const psa = podSecurityRejection(spec, state.namespaces.get(namespace)?.metadata.labels);
  if (psa) throw KubernetesApiError.forbidden("pods", "", displayName, psa);
  const limits = limitRangeRejection(spec, limitRanges);
  if (limits) throw KubernetesApiError.forbidden("pods", "", displayName, limits);
  const quotas = objects.raw("resourcequotas", namespace);
  if (quotas.length) {
    const quota = quotaRejection(spec, quotas, quotaUsed(state, namespace, undefined));
    if (quota) throw KubernetesApiError.forbidden("pods", "", displayName, quota);
  }
  const nowMs = state.nowMs();
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.serviceAccountName ??= "default";
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  spec.tolerations = [
    ...(spec.tolerations ?? []),
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  ];
  for (const c of spec.containers) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  const pod: PodObject = {
    ...object,
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...object.metadata,
      namespace,
      uid: randomUUID(),
      resourceVersion: state.nextResourceVersion(),
      creationTimestamp: k8sTime(nowMs),
    },
    spec,
    status: { phase: "Pending", qosClass: qosClass(spec) },
  };
  delete pod.metadata.generateName;
  return pod;
}

/** What the namespace's non-terminal pods count against quotas (excluding `except`). */
export function quotaUsed(
  state: ClusterState,
  namespace: string,
  except: PodRecord | undefined,
): Record<string, number> {
  const specs = [...state.pods.values()]
    .filter((r) => r !== except && !r.removed && r.pod.metadata.namespace === namespace)
    .filter((r) => r.pod.status?.phase !== "Succeeded" && r.pod.status?.phase !== "Failed")
    .map((r) => r.pod.spec);
  return sumUsage(specs);
}
