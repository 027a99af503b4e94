import type { RequestLog, RequestLogEntry } from "../../../src/emulators/arm/requestLog.js";

/** How many requests the ARM and Kubernetes emulators answered, and how many of them could change something. */
export interface UpstreamCalls {
  arm: number;
  armWrites: number;
  kubernetes: number;
  kubernetesWrites: number;
}

/** Where both emulators' request logs stood (the last `seq` of each). */
export interface UpstreamMark {
  arm: number;
  kubernetes: number;
}

/** The requests each emulator answered since a mark. */
export interface UpstreamRequests {
  arm: RequestLogEntry[];
  kubernetes: RequestLogEntry[];
}

// listClusterUserCredential is a POST that only reads.
const READ_ONLY_POST = /listClusterUserCredential$/i;

/** True when the request could change something upstream. */
export function isWrite(entry: RequestLogEntry): boolean {
  const method = entry.method;
  return method !== "GET" && method !== "HEAD" && !(method === "POST" && READ_ONLY_POST.test(entry.template));
}

export function upstreamMark(arm: RequestLog, kubernetes: RequestLog): UpstreamMark {
  return { arm: arm.lastSeq, kubernetes: kubernetes.lastSeq };
}

export function upstreamSince(arm: RequestLog, kubernetes: RequestLog, mark: UpstreamMark): UpstreamRequests {
  return { arm: arm.since(mark.arm), kubernetes: kubernetes.since(mark.kubernetes) };
}

/** Counts of requests, and of writes among them. */
export function tally(requests: UpstreamRequests): UpstreamCalls {
  return {
    arm: requests.arm.length,
    armWrites: requests.arm.filter(isWrite).length,
    kubernetes: requests.kubernetes.length,
    kubernetesWrites: requests.kubernetes.filter(isWrite).length,
  };
}
