/**
 * `npm run bench`: builds the app, runs every benchmark and writes
 * bench/results.json. Every figure is a ratio to a floor measured in the
 * same run on the same machine (never an absolute time to assert on):
 * statusGet, jobSubmit, coldStart, reconcilePass, throughput, and the ARM
 * polling cost of pool creations from 1 to 30 minutes. All traffic on
 * 127.0.0.1. `BENCH_ONLY=statusGet,coldStart` runs a subset (the other keys
 * keep their previous values in results.json).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../src/packageRoot.js";
import { measurePoolCreation } from "../test/support/poolCreationMeasurement.js";
import { measureApi } from "./apiBenchmarks.js";
import { measureColdStart } from "./coldStartBenchmark.js";
import { measureReconcilePass } from "./reconcilePassBenchmark.js";

const root = packageRoot();
const resultsPath = join(root, "bench", "results.json");
const only = new Set((process.env.BENCH_ONLY ?? "").split(",").filter(Boolean));
const wanted = (key: string): boolean => only.size === 0 || only.has(key);
const previous = existsSync(resultsPath)
  ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, unknown>)
  : {};
const results: Record<string, unknown> = { ...previous };
const machine = {
  cpus: (await import("node:os")).cpus().length,
  loadAverage1m: (await import("node:os")).loadavg()[0],
  node: process.version,
};

function save(): void {
  writeFileSync(
    resultsPath,
    `${JSON.stringify({ ...results, generatedAt: new Date().toISOString(), machine }, null, 2)}\n`,
  );
}

const log = (line: string): void => console.log(line);

if (wanted("statusGet") || wanted("jobSubmit") || wanted("throughput")) {
  log("statusGet, jobSubmit, throughput: the local stack against simulated Azure…");
  const api = await measureApi();
  results.statusGet = api.statusGet;
  results.jobSubmit = api.jobSubmit;
  results.throughput = api.throughput;
  save();
  log(
    `  statusGet.p50Ratio ${api.statusGet.p50Ratio}× (target ≤ ${api.statusGet.target}×): operation ${api.statusGet.operation.measured.p50Ms} ms vs ${api.statusGet.operation.floor.p50Ms} ms, job ${api.statusGet.job.measured.p50Ms} ms vs ${api.statusGet.job.floor.p50Ms} ms`,
  );
  log(
    `  jobSubmit.p50Ratio ${api.jobSubmit.p50Ratio}× (target ≤ ${api.jobSubmit.target}×): ${api.jobSubmit.measured.p50Ms} ms vs ${api.jobSubmit.floor.p50Ms} ms`,
  );
  for (const r of api.throughput.routes)
    log(`  throughput ${r.route}: ${r.requestsPerSecond} req/s, p99 ${r.latencyP99Ms} ms (${r.connections} clients)`);
}

if (wanted("coldStart")) {
  log("coldStart: npm run build, then fresh processes…");
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "inherit" },
  );
  const cold = await measureColdStart();
  results.coldStart = cold;
  save();
  log(
    `  coldStart.importRatio ${cold.importRatio}× (target ≤ ${cold.target}×): ${cold.appImport.p50Ms} ms vs ${cold.floor.p50Ms} ms; first whoami 200 after ${cold.firstWhoami.p50Ms} ms`,
  );
}

if (wanted("reconcilePass")) {
  const active = Number(process.env.BENCH_RECONCILE_ACTIVE ?? 10_000);
  const terminal = Number(process.env.BENCH_RECONCILE_TERMINAL ?? 100_000);
  log(`reconcilePass: seeding ${active} active + ${terminal} terminal operations into Azurite…`);
  const pass = await measureReconcilePass({ active, terminal, due: Math.min(50, active) });
  results.reconcilePass = pass;
  save();
  log(
    `  reconcilePass: ${pass.measured.tableRequests} Table requests with history vs ${pass.floor.tableRequests} without (ratio ${pass.tableRequestsRatio}, target 1); ${pass.measured.historyEntitiesRead} history rows read; listDue ${pass.measured.listDueMs} ms vs ${pass.floor.listDueMs} ms; seeded in ${pass.seedSeconds} s`,
  );
}

if (wanted("poolCreation")) {
  const timeScale = Number(process.env.BENCH_TIME_SCALE ?? 0.005);
  log("poolCreation: adaptive polling vs the SDK's 2 s loop, 1 to 30 minutes…");
  const durations: Record<string, unknown>[] = [];
  // A connection reset by an emulator socket under heavy load surfaces as an
  // uncaught socket error: record it for that duration instead of losing the run.
  let socketError: Error | undefined;
  process.on("uncaughtException", (error: Error & { code?: string }) => {
    if (error.code !== "ECONNRESET") throw error;
    socketError = error;
  });
  for (const minutes of [1, 3, 5, 10, 20, 30]) {
    socketError = undefined;
    const r = await measurePoolCreation({ timeScale, poolCreateSeconds: minutes * 60 }).catch(
      (error: unknown) => error as Error,
    );
    if (r instanceof Error || socketError) {
      const message = r instanceof Error ? r.message : String(socketError);
      durations.push({ minutes, error: message });
      log(`  ${minutes} min: failed (${message})`);
      continue;
    }
    durations.push({
      minutes,
      armReadsPerOperation: r.engine.armReadsPerOperation,
      detectionLagSeconds: r.engine.detectionLagSeconds,
      sdkDefaultPolling: r.sdkDefaultPolling,
      readsRatio: r.readsRatio,
    });
    log(
      `  ${minutes} min: engine ${r.engine.armReadsPerOperation} reads (lag ${r.engine.detectionLagSeconds} s), SDK ${r.sdkDefaultPolling.armReadsPerOperation} reads (lag ${r.sdkDefaultPolling.detectionLagSeconds} s): ${r.readsRatio}×`,
    );
  }
  results.poolCreation = {
    description:
      "agent pool creation of 1–30 (simulated) minutes, ARM sends no Retry-After: ARM reads of the engine vs the SDK's default 2 s polling (the floor), same emulator",
    timeScale,
    durations,
  };
  save();
}
log("wrote bench/results.json");
