import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { azuriteConnectionString } from "../config/configuration.js";
import { freePort } from "./freePort.js";

export interface AzuriteOptions {
  /** Table port; default a free one. */
  port?: number;
  /** Folder for persisted data; omitted = in-memory (tests). */
  location?: string;
  /** Milliseconds to wait for the ready line (default 30 000). */
  startTimeoutMs?: number;
}

export interface RunningAzurite {
  readonly port: number;
  readonly tableEndpoint: string;
  /** Connection string for Azurite's well-known development account. */
  readonly connectionString: string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

function azuriteTableMain(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("azurite/package.json")), "dist", "src", "table", "main.js");
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts Azurite's Table service (the `azurite` package) as a child process on
 * 127.0.0.1, telemetry off, and resolves once it listens.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const port = options.port ?? (await freePort());
  const args = [azuriteTableMain(), "--tableHost", "127.0.0.1", "--tablePort", String(port), "--disableTelemetry", "--skipApiVersionCheck", "--silent"];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push("--location", options.location);
  } else {
    args.push("--inMemoryPersistence");
  }
  // Its own process group: a terminal's Ctrl-C goes to the foreground group,
  // and Azurite must outlive the host's drain (the stack stops it last).
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 30_000} ms: ${output.slice(-500)}`)), options.startTimeoutMs ?? 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/successfully (started|listening)/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code}: ${output.slice(-500)}`));
    });
  });
  child.stdout.removeAllListeners("data");
  child.stderr.removeAllListeners("data");
  child.stdout.resume();
  child.stderr.resume();
  let stopped: Promise<void> | undefined;
  return {
    port,
    tableEndpoint: `http://127.0.0.1:${port}/devstoreaccount1`,
    connectionString: azuriteConnectionString(port),
    stop(): Promise<void> {
      stopped ??= (async () => {
        process.off("exit", killOnExit);
        child.kill("SIGTERM");
        if (!(await waitForExit(child, 5000))) {
          child.kill("SIGKILL");
          await waitForExit(child, 5000);
        }
      })();
      return stopped;
    },
  };
}
