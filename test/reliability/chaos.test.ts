// Chaos, as Azure Functions scales out and crashes: 3 hosts against one
// Azurite and one simulated Azure (`npm run emulators --azurite`, its own
// process), CHAOS_OPERATIONS (50) cluster and pool operations and CHAOS_JOBS
// (50) jobs in flight, and CHAOS_KILLS (10) times a random host is SIGKILLed at
// a random moment and started again. Clients talk to any live host and retry
// like the SDKs. At the end: every operation Succeeded, exactly one ARM create
// per resource (the ARM emulator's request log), every job Succeeded with its
// log tail captured, no operation or job row lost or duplicated, and no job
// slot held.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TableClient } from "@azure/data-tables";
import { DEMO_SUBSCRIPTION_ID } from "../../src/config/simulatedPolicy.js";
import { JOB_SLOTS_TABLE } from "../../src/adapters/tables/jobSlotTable.js";
import type { RequestLogEntry } from "../../src/emulators/arm/requestLog.js";
import { startAppHost, type AppHost } from "../support/appHost.js";
import { startEmulatorsProcess, type EmulatorsProcess } from "../support/emulatorsProcess.js";
import { poll } from "../support/sandboxStack.js";
import { PatientClient, sleep } from "./support/patientClient.js";

const OPERATIONS = Number(process.env.CHAOS_OPERATIONS ?? 50);
const JOBS = Number(process.env.CHAOS_JOBS ?? 50);
const KILLS = Number(process.env.CHAOS_KILLS ?? 10);
const CLUSTERS = Math.max(1, Math.round(OPERATIONS / 5));
const POOLS_PER_CLUSTER = Math.max(0, Math.floor((OPERATIONS - CLUSTERS) / CLUSTERS));
const SCALE = "0.02";
const RG = "rg-chaos";
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
/** Simulated seconds each job runs: 60 wall seconds at SCALE, so jobs are running through the kills. */
const JOB_SECONDS = Number(process.env.CHAOS_JOB_SECONDS ?? 3000);
const TERMINAL = ["Succeeded", "Failed", "Canceled", "TimedOut"];

/** `GET /_emulator/requests` of an emulator in another process (its own CA). */
function emulatorRequests(baseUrl: string, caPem: string): Promise<RequestLogEntry[]> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/_emulator/requests`, { ca: caPem }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve((JSON.parse(text) as { entries: RequestLogEntry[] }).entries));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("chaos: 3 hosts, SIGKILLs at random moments", () => {
  let dataDir: string;
  let emulators: EmulatorsProcess;
  const hosts: (AppHost | undefined)[] = [undefined, undefined, undefined];
  const retired: AppHost[] = [];
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "chaos-"));
    // One team allowed all the jobs at once (the default quota would refuse most of them).
    const policyFile = join(dataDir, "chaos.policy.json");
    writeFileSync(
      policyFile,
      JSON.stringify({
        version: 1,
        defaults: { allowedRegistries: ["mcr.microsoft.com/"], quotas: { maxConcurrentJobs: JOBS + 10 } },
        teams: {
          chaos: { scopes: [{ subscriptionId: DEMO_SUBSCRIPTION_ID, resourceGroups: ["*"], clusters: ["*"] }] },
        },
      }),
    );
    emulators = await startEmulatorsProcess({ dataDir, env: { SIM_TIME_SCALE: SCALE } });
    env = {
      SIM_TIME_SCALE: SCALE,
      SANDBOX_EMULATORS_FILE: emulators.file,
      AZURITE_IN_MEMORY: "false",
      SANDBOX_FLAVOR: "ga",
      SANDBOX_POLICY_FILE: policyFile,
      OPERATIONS_CLAIM_SECONDS: "10",
      LOG_LEVEL: "warn",
    };
    // One after the other: three tsx start-ups at once starve a 2-core machine.
    for (let i = 0; i < hosts.length; i++) hosts[i] = await startAppHost({ dataDir, env, timeoutMs: 180_000 });
  });
  after(async () => {
    for (const h of [...hosts, ...retired]) await h?.stop();
    await emulators?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test(`${OPERATIONS} operations and ${JOBS} jobs in flight, ${KILLS} SIGKILLs: all terminal and correct, nothing lost or doubled`, async () => {
    const live = () =>
      hosts.filter((h): h is AppHost => h !== undefined && h.child.exitCode === null && h.child.signalCode === null);
    const client = new PatientClient(() => {
      const up = live();
      return (up[Math.floor(Math.random() * up.length)] ?? hosts[0]!).api;
    });
    const token = await hosts[0]!.token({ team: "chaos", roles: ["Sandbox.Operator"] });
    const admin = await hosts[0]!.token({ roles: ["Sandbox.Admin"] });

    // The killer: a random live host at a random moment (also one still starting up), restarted on
    // the same data folder at once; the last live host is never killed, as a scale-out keeps one.
    let kills = 0;
    let lastKillAt = 0;
    const restarts: Promise<void>[] = [];
    const killer = (async () => {
      while (kills < KILLS) {
        await sleep(2000 + Math.random() * 5000);
        const candidates = hosts.map((h, i) => ({ h, i })).filter(({ h }) => h !== undefined);
        if (candidates.length < 2) continue;
        const { h: victim, i } = candidates[Math.floor(Math.random() * candidates.length)]!;
        hosts[i] = undefined;
        await victim!.kill("SIGKILL");
        retired.push(victim!);
        kills++;
        lastKillAt = Date.now();
        restarts.push(
          startAppHost({ dataDir, env, timeoutMs: 180_000 }).then((h) => {
            hosts[i] = h;
          }),
        );
      }
    })();

    const sub = DEMO_SUBSCRIPTION_ID;
    const clusterPath = (c: number) => `/subscriptions/${sub}/resourceGroups/${RG}/clusters/chaos${c}`;
    // An operation id, or undefined when the PUT found its resource already there (200): a retry whose first
    // try died on a killed host after submitting takes the request id over and sees the finished resource.
    const ops: Array<string | undefined> = [];
    const accepted = async (method: string, path: string, body: unknown, want = 202): Promise<{ id?: string }> => {
      const res = await client.call(method, path, token, body);
      if (method === "PUT" && res.status === 200) return {};
      assert.equal(res.status, want, `${method} ${path}: ${res.text}`);
      return res.body as { id: string };
    };
    for (let c = 0; c < CLUSTERS; c++) ops.push((await accepted("PUT", clusterPath(c), { location: "eastus" })).id);
    const operation = (id: string | undefined) =>
      id === undefined
        ? Promise.resolve({ status: "Succeeded" })
        : poll(
            async () => {
              const body = (await client.call("GET", `/operations/${id}`, token)).body as { status: string };
              return TERMINAL.includes(body.status) ? body : undefined;
            },
            `operation ${id}`,
            300_000,
            500,
          );
    // Pools and jobs need their cluster; each cluster's follow-up work starts as soon as it is up.
    const jobNames: string[] = [];
    await Promise.all(
      Array.from({ length: CLUSTERS }, async (_, c) => {
        const created = await operation(ops[c]);
        assert.equal(created.status, "Succeeded", JSON.stringify(created));
        for (let p = 0; p < POOLS_PER_CLUSTER; p++) {
          ops.push(
            (
              await accepted("PUT", `${clusterPath(c)}/sandbox-pools/pool${p}`, {
                vmSize: "Standard_D4s_v3",
                nodeCount: 1,
              })
            ).id,
          );
        }
        for (let j = c; j < JOBS; j += CLUSTERS) {
          const name = `job-${j}`;
          await accepted(
            "POST",
            `${clusterPath(c)}/jobs`,
            { image: IMAGE, name, command: ["/bin/sh", "-c", `echo start ${j}; sleep ${JOB_SECONDS}; echo end ${j}`] },
            201,
          );
          jobNames.push(`${c}/${name}`);
        }
      }),
    );

    const finished = await Promise.all(ops.map(operation));
    for (const op of finished) assert.equal(op.status, "Succeeded", JSON.stringify(op));
    for (const entry of jobNames) {
      const [c, name] = entry.split("/") as [string, string];
      const job = await poll(
        async () => {
          const body = (await client.call("GET", `${clusterPath(Number(c))}/jobs/${name}`, token)).body as {
            status: string;
          };
          return TERMINAL.includes(body.status) ? body : undefined;
        },
        `job ${entry}`,
        300_000,
        500,
      );
      assert.equal(job.status, "Succeeded", `${entry}: ${JSON.stringify(job)}`);
    }
    const workEndedAt = Date.now();
    await killer;
    await Promise.all(restarts);
    assert.equal(kills, KILLS);
    assert.ok(lastKillAt < workEndedAt, "every kill happened while work was in flight");

    // Log tails are captured by the job timer once a job ends; every job has one.
    for (const entry of jobNames) {
      const [c, name] = entry.split("/") as [string, string];
      const j = name.slice("job-".length);
      const logs = await client.call("GET", `${clusterPath(Number(c))}/jobs/${name}/logs`, token);
      assert.equal(logs.status, 200, logs.text);
      assert.match(logs.text, new RegExp(`end ${j}\\b`), `${entry}: ${logs.text}`);
    }

    // No row lost or duplicated.
    const listedOps: string[] = [];
    for (let next: string | undefined = "/operations?top=1000"; next;) {
      const page = (await client.call("GET", next, admin)).body as { value: { id: string }[]; nextLink?: string };
      listedOps.push(...page.value.map((o) => o.id));
      next = page.nextLink?.replace(/^.*\/api\/v1/, "");
    }
    assert.deepEqual([...new Set(listedOps)].sort(), [...listedOps].sort(), "an operation listed twice");
    for (const id of ops) if (id !== undefined) assert.ok(listedOps.includes(id), `operation ${id} lost`);
    const listedJobs = (
      (await client.call("GET", "/jobs?top=1000", admin)).body as { value: { name: string }[] }
    ).value.map((j) => j.name);
    for (const entry of jobNames)
      assert.equal(
        listedJobs.filter((n) => n === entry.split("/")[1]).length,
        1,
        `job ${entry} not listed exactly once`,
      );

    // Exactly one ARM create per cluster and per pool.
    const armLog = await emulatorRequests(emulators.ready.arm, readFileSync(emulators.ready.caCertPath, "utf8"));
    const puts = new Map<string, number>();
    for (const e of armLog) {
      const m = /\/managedClusters\/(chaos\d+)(\/agentPools\/(pool\d+))?$/i.exec(e.path);
      if (e.method === "PUT" && m && e.status >= 200 && e.status < 300)
        puts.set(e.path.toLowerCase(), (puts.get(e.path.toLowerCase()) ?? 0) + 1);
    }
    assert.equal(puts.size, CLUSTERS * (1 + POOLS_PER_CLUSTER), JSON.stringify([...puts]));
    for (const [path, n] of puts) assert.equal(n, 1, `${path}: ${n} ARM creates`);

    // No job slot held once every job ended.
    const slots = TableClient.fromConnectionString(emulators.ready.tablesConnection!, JOB_SLOTS_TABLE, {
      allowInsecureConnection: true,
    });
    const held: string[] = [];
    let counter = 0;
    for await (const row of slots.listEntities<{ count?: number }>()) {
      if (row.rowKey === "~count") counter += Number(row.count ?? 0);
      else held.push(`${row.partitionKey}/${row.rowKey}`);
    }
    assert.equal(counter, 0, `slot counters: ${counter}`);
    assert.deepEqual(held, [], "slots still held");
    assert.deepEqual(client.misbehaviour(), []);
    console.log(
      JSON.stringify({
        operations: ops.length,
        jobs: jobNames.length,
        kills,
        armRequests: armLog.length,
        apiAnswers: client.seen.length,
      }),
    );
  });
});
