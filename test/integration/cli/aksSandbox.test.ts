// test: end-to-end (the built CLI against a host process)
// The built `aks-sandbox` CLI as a child process against the local stack
// (`npm start`'s simulated Azure): the whole scenario from a shell, output
// formats, exit codes 0/1/2/3, plain progress lines off a terminal, and the
// spinner view under a pseudo-terminal (util-linux `script`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ExecFileException } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEMO_SUBSCRIPTION_ID } from "../../../src/config/simulatedPolicy.js";
import { packageRoot } from "../../../src/packageRoot.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const run = promisify(execFile);

let host: AppHost;
let buildDir: string;
let configDir: string;
let cli: string;

before(async () => {
  // The built CLI, compiled as `npm run build` does, into a folder of its own (beside node_modules for resolution).
  // Only the CLI and what it imports (the build's compiler options), to keep the compile small.
  buildDir = mkdtempSync(join(packageRoot(), ".cli-build-"));
  const tsconfig = join(buildDir, "tsconfig.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(packageRoot(), "tsconfig.json"),
      compilerOptions: { noEmit: false, sourceMap: false, rootDir: packageRoot(), outDir: buildDir },
      files: [join(packageRoot(), "src", "cli", "aksSandbox.ts")],
      include: [],
    }),
  );
  await run(process.execPath, [join(packageRoot(), "node_modules", "typescript", "bin", "tsc"), "-p", tsconfig], {
    timeout: 200_000,
  });
  cli = join(buildDir, "src", "cli", "aksSandbox.js");
  configDir = mkdtempSync(join(tmpdir(), "aks-sandbox-cli-"));
  host = await startAppHost({ env: { SIM_TIME_SCALE: "0.01" } });
});
after(async () => {
  await host?.stop();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function sandbox(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, XDG_CONFIG_HOME: configDir, NO_COLOR: "", ...env },
      timeout: 170_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as ExecFileException & { stdout: string; stderr: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

const scope = ["-s", DEMO_SUBSCRIPTION_ID, "-g", "rg-cli"];

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`). `columns` sizes
 * the terminal with `stty` first; without it the terminal reports 0 columns, as
 * when `script` itself has no terminal. A run that outlasts `timeoutMs` is
 * killed with everything under it: `script` starts the CLI in a session of its
 * own (so a process-group kill misses it), and a CLI stuck in a synchronous
 * loop never runs the SIGHUP handler ora installs, so each process gets SIGKILL.
 */
/** The processes below `pid` (Linux `/proc`), children before their parents' siblings. */
function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((c) => [...descendants(c), c]);
}

async function underPseudoTerminal(
  args: string[],
  options: { columns?: number; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Run & { timedOut: boolean }> {
  const quoted = [process.execPath, cli, ...args].map((a) => `'${a}'`).join(" ");
  const command = options.columns ? `stty cols ${options.columns} rows 40; exec ${quoted}` : `exec ${quoted}`;
  // CI runners set CI, which means plain lines; the terminal cases choose it themselves.
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configDir, TERM: "xterm-256color" };
  delete env.CI;
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    // A runaway redraw loop must not exhaust the test's memory.
    if (stdout.length < 1024 * 1024) stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    const pid = child.pid as number;
    for (const p of [...descendants(pid), pid]) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }, options.timeoutMs ?? 60_000);
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  child.stdin.destroy();
  return { code, stdout, stderr, timedOut };
}

test("the CLI walks the scenario from a shell with the specified exit codes", { timeout: 600_000 }, async () => {
  // 3: not logged in.
  const anonymous = await sandbox(["job", "list"]);
  assert.equal(anonymous.code, 3, anonymous.stderr);
  assert.match(anonymous.stderr, /NotLoggedIn/);

  const login = await sandbox([
    "login",
    "--endpoint",
    host.api,
    "--data-dir",
    host.dataDir,
    "--roles",
    "Sandbox.Admin",
    ...scope,
    "-o",
    "json",
  ]);
  assert.equal(login.code, 0, login.stderr);
  assert.deepEqual(JSON.parse(login.stdout).roles, ["Sandbox.Admin"]);

  // 2: usage errors, from the parser and from the API (InvalidRequest).
  assert.equal((await sandbox(["cluster", "create", "c1"])).code, 2);
  assert.equal((await sandbox(["cluster", "get", "c1", "-o", "xml"])).code, 2);

  // Plain progress lines off a terminal (stderr is a pipe here).
  const feature = await sandbox(["feature", "register", "--wait"]);
  assert.equal(feature.code, 0, feature.stderr);
  assert.match(feature.stderr, /RegisterSandboxFeature Running · step \d\/4 \w+/);
  assert.match(feature.stderr, /done · RegisterSandboxFeature Succeeded/);
  assert.doesNotMatch(feature.stderr, /\x1b\[/, "no escape codes off a terminal");

  const invalid = await sandbox(["cluster", "create", "c9", "-l", "eastus", "--node-count", "0"]);
  assert.equal(invalid.code, 2, invalid.stderr);
  assert.match(invalid.stderr, /InvalidRequest/);

  const created = await sandbox(["cluster", "create", "c1", "-l", "eastus", "--wait", "-o", "json"]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).status, "Succeeded");

  const dryRun = await sandbox([
    "pool",
    "put",
    "kata",
    "-c",
    "c1",
    "--vm-size",
    "Standard_D4s_v3",
    "--dry-run",
    "-o",
    "json",
  ]);
  assert.equal(dryRun.code, 0, dryRun.stderr);
  assert.ok(JSON.parse(dryRun.stdout).checks, dryRun.stdout);
  const pool = await sandbox([
    "pool",
    "put",
    "kata",
    "-c",
    "c1",
    "--vm-size",
    "Standard_D4s_v3",
    "--node-count",
    "1",
    "--wait",
  ]);
  assert.equal(pool.code, 0, pool.stderr);
  const pools = await sandbox(["pool", "list", "-c", "c1"]);
  assert.match(pools.stdout, /^NAME\s+VMSIZE/m);
  assert.match(pools.stdout, /kata\s+Standard_D4s_v3/);

  // job run --follow prints the live log; a job that fails is exit 1.
  const hello = await sandbox([
    "job",
    "run",
    "-c",
    "c1",
    "--image",
    IMAGE,
    "--name",
    "hello",
    "--follow",
    "--",
    "/bin/sh",
    "-c",
    "echo hello; echo world",
  ]);
  assert.equal(hello.code, 0, hello.stderr);
  assert.equal(hello.stdout, "hello\nworld\n");
  assert.match(hello.stderr, /job hello: Succeeded \(exit code 0\)/);
  const boom = await sandbox([
    "job",
    "run",
    "-c",
    "c1",
    "--image",
    IMAGE,
    "--name",
    "boom",
    "--wait",
    "-o",
    "json",
    "--",
    "/bin/sh",
    "-c",
    "exit 3",
  ]);
  assert.equal(boom.code, 1, boom.stderr);
  assert.equal(JSON.parse(boom.stdout).exitCode, 3);
  assert.equal((await sandbox(["job", "logs", "hello", "-c", "c1"])).stdout, "hello\nworld\n");
  // An Admin names the job's team (?team=); another team's name for it is not found.
  assert.equal((await sandbox(["job", "logs", "hello", "-c", "c1", "--team", "alpha"])).stdout, "hello\nworld\n");
  const otherTeam = await sandbox(["job", "get", "hello", "-c", "c1", "--team", "beta"]);
  assert.equal(otherTeam.code, 1, otherTeam.stderr);
  assert.match(otherTeam.stderr, /NotFound/);

  const check = await sandbox(["isolation", "check", "-c", "c1", "--wait", "-o", "json"]);
  assert.equal(check.code, 0, check.stderr);
  assert.equal(JSON.parse(check.stdout).result.isolated, true);

  const jobs = await sandbox(["job", "list", "-c", "c1", "-o", "yaml"]);
  assert.match(jobs.stdout, /name: hello/);
  assert.match(jobs.stdout, /name: boom/);
  const ops = await sandbox(["op", "list", "-o", "json"]);
  assert.ok((JSON.parse(ops.stdout) as { kind: string }[]).some((o) => o.kind === "IsolationCheck"));

  // 1 with the API's code and message; 3 for a caller without the role.
  const missing = await sandbox(["job", "get", "nosuch", "-c", "c1"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error: NotFound: .+\n {2}x-ms-request-id: /);
  const reader = await host.token({ team: "alpha", roles: ["Sandbox.Reader"] });
  const denied = await sandbox(["cluster", "delete", "c1"], { AKS_SANDBOX_TOKEN: reader });
  assert.equal(denied.code, 3, denied.stderr);
  assert.match(denied.stderr, /Forbidden/);

  assert.equal((await sandbox(["job", "cancel", "hello", "-c", "c1", "--team", "alpha"])).code, 0);
  assert.equal((await sandbox(["pool", "delete", "kata", "-c", "c1", "--wait"])).code, 0);

  // The progress view on a terminal: spinner frames, steps and percentage, then the final line.
  const tty = await underPseudoTerminal(["cluster", "delete", "c1", "--wait"], { columns: 120, timeoutMs: 170_000 });
  assert.equal(tty.timedOut, false, "the CLI exits when the operation ends");
  assert.equal(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /\x1b\[/, "terminal control sequences");
  assert.match(tty.stdout, /Deleting cluster c1: DeleteCluster Running · step \d\/\d \w+/);
  assert.match(tty.stdout, /✔\S* Deleting cluster c1: DeleteCluster Succeeded · 100%/);

  const deletion = (JSON.parse((await sandbox(["op", "list", "-o", "json"])).stdout) as { id: string; kind: string }[])
    .filter((o) => o.kind === "DeleteCluster")
    .at(-1);
  assert.ok(deletion, "the DeleteCluster operation is listed");
  // NO_COLOR on a terminal: plain lines.
  const noColor = await underPseudoTerminal(["op", "wait", deletion.id], { columns: 120, env: { NO_COLOR: "1" } });
  assert.equal(noColor.code, 0, noColor.stdout);
  assert.match(noColor.stdout, new RegExp(`Operation ${deletion.id}: done · DeleteCluster Succeeded · 100%`));
  assert.doesNotMatch(noColor.stdout, /\x1b\[/, "no escape codes with NO_COLOR");
  // CI on a terminal (a runner with a pseudo-terminal): plain lines too.
  const onCi = await underPseudoTerminal(["op", "wait", deletion.id], { columns: 120, env: { CI: "true" } });
  assert.equal(onCi.code, 0, onCi.stdout);
  assert.match(onCi.stdout, new RegExp(`Operation ${deletion.id}: done · DeleteCluster Succeeded · 100%`));
  assert.doesNotMatch(onCi.stdout, /\x1b\[/, "no escape codes under CI");
  // A terminal that reports no width (0 columns): plain lines, and the CLI exits (the spinner used to loop forever).
  const unsized = await underPseudoTerminal(["op", "wait", deletion.id]);
  assert.equal(unsized.timedOut, false, "the CLI exits on a terminal without a width");
  assert.equal(unsized.code, 0, unsized.stdout);
  assert.match(unsized.stdout, new RegExp(`Operation ${deletion.id}: done · DeleteCluster Succeeded · 100%`));
});
