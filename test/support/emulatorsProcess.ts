import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import type { EmulatorsReadyLine } from "../../src/emulators/startEmulators.js";
import { packageRoot } from "../../src/packageRoot.js";

/**
 * `npm run emulators` as a child process (simulated Azure, optionally Azurite),
 * for tests that run several hosts against it and kill hosts or it at will.
 * Hosts attach with `env: { SANDBOX_EMULATORS_FILE: emulators.file }` and the same `dataDir`.
 */
export interface EmulatorsProcess {
  readonly ready: EmulatorsReadyLine;
  /** `<dataDir>/emulators.json`: what `SANDBOX_EMULATORS_FILE` names. */
  readonly file: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  output(): string;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGINT (saves state, stops Azurite), SIGKILL after 30 s; idempotent. */
  stop(): Promise<void>;
}

export interface EmulatorsProcessOptions {
  /** Data folder (state, TLS, Azurite data); the caller owns and removes it. */
  dataDir: string;
  /** Also run Azurite (default true). */
  azurite?: boolean;
  env?: Record<string, string>;
  /** Milliseconds to wait for the ready line; default 60 000. */
  timeoutMs?: number;
}

export async function startEmulatorsProcess(options: EmulatorsProcessOptions): Promise<EmulatorsProcess> {
  const args = ["--import", import.meta.resolve("tsx"), join(packageRoot(), "src", "emulators", "startEmulators.ts")];
  if (options.azurite ?? true) args.push("--azurite");
  const child = spawn(process.execPath, args, {
    cwd: options.dataDir,
    env: { ...process.env, SANDBOX_DATA_DIR: options.dataDir, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<EmulatorsReadyLine>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`emulators not ready in time:\n${output}`)),
      options.timeoutMs ?? 60_000,
    );
    child.stdout.on("data", () => {
      const line = output.split("\n").find((l) => l.startsWith('{"arm"'));
      if (line) {
        clearTimeout(timer);
        // The file has everything the line has, plus Azurite's connection string.
        resolve(JSON.parse(readFileSync(join(options.dataDir, "emulators.json"), "utf8")) as EmulatorsReadyLine);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`emulators exited before ready:\n${output}`));
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    ready,
    file: join(options.dataDir, "emulators.json"),
    dataDir: options.dataDir,
    child,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

/** Whether something accepts TCP connections at the URL's host and port. */
export function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Whether a process with this PID exists and has not exited (an unreaped zombie counts as exited). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

/** Polls `check` every 100 ms until it is true or `ms` passed; returns the last result. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<boolean> {
  const { setTimeout: wait } = await import("node:timers/promises");
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await wait(100);
  }
}
