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
  /** Serve HTTPS with this certificate and key (PEM files); required by `oauth`. */
  tls?: { certPath: string; keyPath: string };
  /** `basic`: accept OAuth bearer tokens (Azurite checks issuer, audience and lifetime, not the signature). */
  oauth?: "basic";
  /**
   * More modules Node imports into Azurite's process before it starts (file
   * URLs or paths). Only the reconcilePass benchmark gives one, to index
   * Azurite's point lookups (bench/azuriteIndexedPointLookups.mjs); the local
   * stack and the tests run Azurite unchanged.
   */
  preload?: string[];
  /**
   * Storage accounts Azurite serves (its AZURITE_ACCOUNTS), in place of the
   * development account, which the returned connection string then does not
   * name: the caller builds one per account. Tests give many, so that one
   * Azurite serves many stacks, each alone in its account.
   */
  accounts?: readonly { name: string; key: string }[];
  /**
   * Let the parent exit while Azurite runs (Azurite is then killed with it).
   * A test process's shared Azurite: node:test ends a file's process when
   * nothing is left to do, and no hook runs after the last file it imports.
   */
  unref?: boolean;
}

export interface RunningAzurite {
  readonly pid: number;
  readonly port: number;
  readonly tableEndpoint: string;
  /** Connection string for Azurite's well-known development account. */
  readonly connectionString: string;
  /** Stops the process (SIGINT, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Preloaded into Azurite's process: it exits when its parent does, however
 * the parent dies (SIGKILL, OOM kill included). The parent holds the write
 * end of Azurite's stdin; the kernel closes it when the parent is gone, so
 * stdin ends, and Azurite then shuts down as on Ctrl-C (SIGINT: it saves its
 * data), with a hard exit if that takes more than 5 s. Azurite never reads
 * stdin itself. Node has no PR_SET_PDEATHSIG; this is its portable equivalent.
 */
export const EXIT_WITH_PARENT_PRELOAD =
  "data:text/javascript," +
  encodeURIComponent(
    'process.stdin.on("end",()=>{setTimeout(()=>process.exit(0),5000).unref();process.kill(process.pid,"SIGINT")});' +
      'process.stdin.on("error",()=>{});process.stdin.resume();process.stdin.unref?.();',
  );

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
  const args = [
    "--import",
    EXIT_WITH_PARENT_PRELOAD,
    ...(options.preload ?? []).flatMap((module) => ["--import", module]),
    azuriteTableMain(),
    "--tableHost",
    "127.0.0.1",
    "--tablePort",
    String(port),
    "--disableTelemetry",
    "--skipApiVersionCheck",
    "--silent",
  ];
  if (options.tls) args.push("--cert", options.tls.certPath, "--key", options.tls.keyPath);
  if (options.oauth) {
    if (!options.tls) throw new Error("Azurite accepts OAuth tokens only over HTTPS: give tls as well");
    args.push("--oauth", options.oauth);
  }
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push("--location", options.location);
  } else {
    args.push("--inMemoryPersistence");
  }
  // Its own process group: a terminal's Ctrl-C goes to the foreground group,
  // and Azurite must outlive the host's drain (the stack stops it last).
  // stdin is a pipe only we hold: see EXIT_WITH_PARENT_PRELOAD.
  const env = options.accounts
    ? { ...process.env, AZURITE_ACCOUNTS: options.accounts.map((a) => `${a.name}:${a.key}`).join(";") }
    : process.env;
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"], detached: true, env });
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 30_000} ms: ${output.slice(-500)}`)),
      options.startTimeoutMs ?? 30_000,
    );
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
  if (options.unref) {
    // The stdin pipe stays open (Azurite exits when it closes) but no longer holds this process.
    for (const stream of [child.stdin, child.stdout, child.stderr])
      (stream as { unref?: () => void } | null)?.unref?.();
    child.unref();
  }
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid ?? 0,
    port,
    tableEndpoint: `${options.tls ? "https" : "http"}://127.0.0.1:${port}/devstoreaccount1`,
    connectionString: options.tls
      ? azuriteConnectionString(port)
          .replace("http://", "https://")
          .replace("DefaultEndpointsProtocol=http;", "DefaultEndpointsProtocol=https;")
      : azuriteConnectionString(port),
    stop(): Promise<void> {
      stopped ??= (async () => {
        process.off("exit", killOnExit);
        // SIGINT is Azurite's graceful shutdown (it saves its database); SIGTERM is not handled.
        child.kill("SIGINT");
        if (!(await waitForExit(child, 5000))) {
          child.kill("SIGKILL");
          await waitForExit(child, 5000);
        }
      })();
      return stopped;
    },
  };
}
