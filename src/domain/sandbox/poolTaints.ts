import { SandboxError } from "../sandboxError.js";

const TAINT =
  /^([A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?)(=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;

/**
 * Checks the taints of a sandbox pool (`key[=value]:Effect`, AKS's syntax).
 * Decision: a sandbox pool may carry only `PreferNoSchedule` taints. Jobs
 * and isolation probes are scheduled by the RuntimeClass onto any sandbox
 * node and carry no tolerations, so a `NoSchedule`/`NoExecute` taint would
 * leave them Pending forever (or evict them); refusing the pool up front,
 * with the reason, beats an operation that succeeds and a pool nothing can
 * use.
 * @throws SandboxError `InvalidRequest` (target `taints[i]`) naming the taint.
 */
export function checkSandboxPoolTaints(taints: readonly string[] | undefined): void {
  (taints ?? []).forEach((taint, i) => {
    const match = TAINT.exec(taint);
    if (!match) {
      throw new SandboxError(
        "InvalidRequest",
        `taints[${i}] "${taint}" is not a taint: use key[=value]:NoSchedule|PreferNoSchedule|NoExecute.`,
        { target: `taints[${i}]` },
      );
    }
    if (match[6] !== "PreferNoSchedule") {
      throw new SandboxError(
        "InvalidRequest",
        `taints[${i}] "${taint}": sandbox pools accept only PreferNoSchedule taints. Sandboxed jobs and isolation probes carry no tolerations, so a ${match[6]} taint would keep them off the pool.`,
        { target: `taints[${i}]` },
      );
    }
  });
}
