import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalTokenIssuer, type MintTokenOptions } from "../../src/localhost/localTokenIssuer.js";
import { packageRoot } from "../../src/packageRoot.js";

/** A running `src/localhost/start.ts` child process (the `npm start` stack) for integration tests. */
export interface AppHost {
  /** `http://127.0.0.1:<port>/api/v1` */
  readonly api: string;
  /** The ready JSON line, parsed. */
  readonly ready: Record<string, string>;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** `fetch` against the API (path relative to `/api/v1`) with a bearer token and an optional JSON body. */
  call(method: string, path: string, token: string, body?: unknown): Promise<Response>;
  /** Mints a token the host accepts (local issuer in the host's data dir). */
  token(options?: MintTokenOptions): Promise<string>;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** SIGTERM, wait for exit; returns the exit code. Idempotent. */
  stop(): Promise<number | null>;
  /** Sends `signal` (e.g. SIGKILL: a crash) and waits for the process to exit; the data dir stays. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface AppHostOptions {
  /** Extra environment (e.g. SANDBOX_TABLES_CONNECTION of a test Azurite). */
  env?: Record<string, string>;
  /** Milliseconds to wait for the ready line; default 60 000. */
  timeoutMs?: number;
  /** Use this data dir (shared by several hosts, kept on stop) instead of a fresh temporary one. */
  dataDir?: string;
}

/**
 * Starts the local stack as `npm start` does (tsx instead of a build), on a
 * free port, with its own temporary data dir (removed on stop). Without
 * SANDBOX_TABLES_CONNECTION in `env` it starts its own in-memory Azurite.
 */
export async function startAppHost(options: AppHostOptions = {}): Promise<AppHost> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "aks-pod-sandbox-test-"));
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), join(packageRoot(), "src", "localhost", "start.ts")],
    {
      cwd: dataDir,
      env: {
        ...process.env,
        PORT: "0",
        SANDBOX_DATA_DIR: dataDir,
        AZURITE_IN_MEMORY: "true",
        NODE_ENV: "test",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`host not ready in time:\n${output}`)),
      options.timeoutMs ?? 60_000,
    );
    // Only complete lines are looked at (a chunk may end inside the ready line), each once: the
    // access log keeps writing for the whole test, and splitting everything printed so far again
    // on every chunk grew quadratic (a benchmark's thousands of requests) and stole the CPU the
    // measurements run on. The listener goes once the line is found.
    let scanned = 0;
    const check = (): void => {
      const end = output.lastIndexOf("\n");
      if (end < scanned) return;
      const line = output
        .slice(scanned, end)
        .split("\n")
        .find((l) => l.startsWith('{"api"'));
      scanned = end + 1;
      if (line) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        resolve(JSON.parse(line) as Record<string, string>);
      }
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code} before ready:\n${output}`));
    });
  });
  let issuer: LocalTokenIssuer | undefined;
  let stopped: Promise<number | null> | undefined;
  return {
    api: ready.api!,
    ready,
    output: () => output,
    dataDir,
    child,
    call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
      return fetch(`${ready.api!}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async token(tokenOptions: MintTokenOptions = {}): Promise<string> {
      issuer ??= await LocalTokenIssuer.open(dataDir);
      return issuer.mint(tokenOptions);
    },
    async kill(signal: NodeJS.Signals): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    stop(): Promise<number | null> {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        const code = await exited;
        clearTimeout(timer);
        if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
        return code;
      })();
      return stopped;
    },
  };
}
