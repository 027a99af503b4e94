/** The apiserver's defaulting of pod specs and its QoS classification. */
import type { ContainerSpec, PodSpec } from "./kubernetesObjects.js";
import { parseQuantity } from "./parseQuantity.js";

export function defaultContainer(c: ContainerSpec): void {
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  const image = c.image ?? "";
  const tagged = /:[^/]+$/.test(image) && !image.endsWith(":latest");
  c.imagePullPolicy ??= tagged || image.includes("@") ? "IfNotPresent" : "Always";
  c.resources ??= {};
  // The apiserver defaults each request that is missing to its limit.
  if (c.resources.limits) c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
}

export function defaultedPodSpec(spec: PodSpec): PodSpec {
  const out = structuredClone(spec);
  out.restartPolicy ??= "Always";
  out.dnsPolicy ??= "ClusterFirst";
  out.schedulerName ??= "default-scheduler";
  out.terminationGracePeriodSeconds ??= 30;
  out.securityContext ??= {};
  for (const c of out.containers) defaultContainer(c);
  return out;
}

/** Pod QoS class from requests/limits (Guaranteed / Burstable / BestEffort). */
export function qosClass(spec: PodSpec): string {
  let any = false;
  let guaranteed = true;
  for (const c of spec.containers) {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (Object.keys(limits).length || Object.keys(requests).length) any = true;
    for (const r of ["cpu", "memory"]) {
      if (
        limits[r] === undefined ||
        (requests[r] !== undefined && parseQuantity(requests[r]) !== parseQuantity(limits[r]))
      )
        guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
