import type { RequestLog } from "../../../src/emulators/arm/requestLog.js";

/** How many requests the ARM and Kubernetes emulators answered, and how many of them could change something. */
export interface UpstreamCalls {
  arm: number;
  armWrites: number;
  kubernetes: number;
  kubernetesWrites: number;
}

// listClusterUserCredential is a POST that only reads.
const READ_ONLY_POST = /listClusterUserCredential$/i;

function tally(log: RequestLog): { all: number; writes: number } {
  let all = 0;
  let writes = 0;
  for (const [key, n] of Object.entries(log.counts())) {
    all += n;
    const [method = "", template = ""] = key.split(" ");
    if (method !== "GET" && method !== "HEAD" && !(method === "POST" && READ_ONLY_POST.test(template))) writes += n;
  }
  return { all, writes };
}

/** Counts from both emulators' request logs (cheap: per-route counters, not entries). */
export function upstreamCalls(arm: RequestLog, kubernetes: RequestLog): UpstreamCalls {
  const a = tally(arm);
  const k = tally(kubernetes);
  return { arm: a.all, armWrites: a.writes, kubernetes: k.all, kubernetesWrites: k.writes };
}

/** `after - before`, per field. */
export function callsBetween(before: UpstreamCalls, after: UpstreamCalls): UpstreamCalls {
  return {
    arm: after.arm - before.arm,
    armWrites: after.armWrites - before.armWrites,
    kubernetes: after.kubernetes - before.kubernetes,
    kubernetesWrites: after.kubernetesWrites - before.kubernetesWrites,
  };
}
