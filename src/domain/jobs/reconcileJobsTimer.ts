import type { JobReconcileReport } from "./jobReconciler.js";

type JobTimerTarget = { reconcileJobs(): Promise<JobReconcileReport> };

/**
 * The job timer handler (`reconcileJobs`, every 10 s): refreshes unfinished
 * jobs, captures the log tails of finished ones and releases their slots.
 * @param jobs resolved on each tick (the composition root builds it on first use, possibly asynchronously).
 * @param log read after `jobs` has resolved (the services are built by then).
 */
export function reconcileJobsTimer(
  jobs: () => JobTimerTarget | Promise<JobTimerTarget>,
  log: () => (event: Record<string, unknown>) => void,
) {
  return async (): Promise<void> => {
    const report = await (await jobs()).reconcileJobs();
    if (report.active > 0) log()({ level: "info", component: "jobs", msg: "reconcileJobs", ...report });
  };
}
