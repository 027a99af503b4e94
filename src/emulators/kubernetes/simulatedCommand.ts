/**
 * Simulated container processes. Containers are never really run; instead the
 * emulator interprets a small, documented subset of what job manifests use:
 *
 * | command | effect |
 * | --- | --- |
 * | `uname -r` | prints the kernel: the guest kernel (`5.15.48.1-8.cm2` by default) in a sandboxed pod (Kata runtime class on a sandbox node), the node's kernel (`5.15.80.mshv2-hvl1.m2` on sandbox nodes) otherwise; `uname`, `-s`, `-n`, `-m`, `-a` too |
 * | `echo [-n] …` | prints its arguments joined by spaces |
 * | `printf FMT ARGS…` | `%s`/`%d` and `\n` only |
 * | `sleep N[s|m|h|d]` / `sleep infinity` | waits N simulated seconds |
 * | `exit N` | ends the container with exit code N |
 * | `true`, `:`, `false` | exit 0 / 0 / 1 |
 * | `hostname` | prints the pod name |
 * | `cat /proc/version` | prints `Linux version <kernel> …` |
 * | `sh -c '…'`, `/bin/sh -ec '…'`, `bash -c '…'` | runs the script; `-e` stops at the first failing command |
 * | `a; b`, `a && b`, `a \|\| b`, newlines | sequences with shell semantics |
 * | `while :; do …; done` (also `while true`) | loops until the pod is deleted (the docs' `while :; do echo '.'; sleep 5 ; done` prints a dot every 5 simulated seconds) |
 * | `wget [-q] [-O-] [-T N] URL`, `curl [-sSfk] [-m N] [--connect-timeout N] URL` | connects through the cluster network (`networkReachability.ts`): prints a plausible body when the destination is reachable, the tool's own error text when it is refused, unresolvable or times out (after N simulated seconds, or the kernel's 130 s connect timeout) |
 * | `cat /var/run/secrets/kubernetes.io/serviceaccount/token`, `ls` of that directory | the token, or the tool's "No such file or directory" when none is mounted |
 * | `dd if=/dev/zero of=F bs=B count=N`, `fallocate -l SIZE F` | writes to the container's writable layer (ephemeral storage); past the pod's limit the kubelet evicts it |
 * | anything else | prints one line naming the command, exits 0 |
 * | no command/args | prints one line naming the image's entrypoint, exits 0 |
 *
 * Quoting: single and double quotes and backslash escapes are honoured;
 * no variable expansion, pipes or redirections.
 */
import { runDd, runFallocate } from "./simulatedDiskTools.js";
import { runCurl, runWget } from "./simulatedNetworkTools.js";

/** Where a running simulated process writes and waits. */
export interface SimulatedProcessContext {
  /** Appends one line to the container log. */
  writeLine(line: string): void;
  /** Waits `seconds` of simulated time; rejects when the container is killed. */
  sleep(seconds: number): Promise<void>;
  /** What `uname -r` prints in this container. */
  kernel: string;
  /** The pod name (what `hostname` prints). */
  hostname: string;
  /** Opens a connection from the pod (wget/curl); absent: every connection times out. */
  connect?(request: ConnectRequest): ConnectResult;
  /** The mounted service-account token, or undefined when none is mounted. */
  serviceAccountToken?: string | undefined;
  /** Writes bytes to the container's writable layer; rejects like `sleep` when the pod is evicted. */
  writeDisk?(bytes: number): Promise<void>;
}

/** One connection attempt of `wget`/`curl`. */
export interface ConnectRequest {
  scheme: "http" | "https";
  host: string;
  port: number;
  path: string;
}

/** What the network did with it (`ip`: the address the name resolved to). */
export type ConnectResult =
  | { outcome: "ok"; ip: string; status: number; statusText: string; body: string }
  | { outcome: "refused"; ip: string }
  | { outcome: "timeout"; ip: string }
  | { outcome: "unresolved" };

type Command = { kind: "simple"; argv: string[] } | { kind: "while"; condition: Sequence; body: Sequence };
type Sequence = Array<{ op: ";" | "&&" | "||"; command: Command }>;

/** A parsed container entrypoint, ready to run. */
export interface SimulatedProgram {
  errexit: boolean;
  body: Sequence;
}

const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh"]);

/** Unwinds the interpreter on `exit N` (or a failing command under `-e`). */
class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Splits shell text into words and operators (`;`, `&&`, `||`). */
function tokenize(script: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let inWord = false;
  const push = () => {
    if (inWord) tokens.push(current);
    current = "";
    inWord = false;
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i] ?? "";
    if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end === -1 ? script.length : end;
      current += script.slice(i + 1, stop);
      inWord = true;
      i = stop;
    } else if (ch === '"') {
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === "\\" && i + 1 < script.length && '"\\$`'.includes(script[i + 1] ?? "")) i++;
        current += script[i] ?? "";
        i++;
      }
      inWord = true;
    } else if (ch === "\\" && i + 1 < script.length) {
      if (script[i + 1] !== "\n") {
        current += script[i + 1] ?? "";
        inWord = true;
      }
      i++;
    } else if (ch === ";" || ch === "\n") {
      push();
      tokens.push(";");
    } else if ((ch === "&" || ch === "|") && script[i + 1] === ch) {
      push();
      tokens.push(ch + ch);
      i++;
    } else if (ch === "#" && !inWord) {
      while (i < script.length && script[i] !== "\n") i++;
      i--;
    } else if (/\s/.test(ch)) {
      push();
    } else {
      current += ch;
      inWord = true;
    }
  }
  push();
  return tokens;
}

/** Recursive-descent parse of a token list into a sequence (stops at any of `stop`). */
function parseSequence(tokens: string[], pos: { i: number }, stop: Set<string>): Sequence {
  const seq: Sequence = [];
  let op: ";" | "&&" | "||" = ";";
  while (pos.i < tokens.length) {
    const token = tokens[pos.i] ?? "";
    if (stop.has(token)) break;
    if (token === ";" || token === "&&" || token === "||") {
      op = token;
      pos.i++;
      continue;
    }
    if (token === "while" || token === "until") {
      pos.i++;
      const condition = parseSequence(tokens, pos, new Set(["do"]));
      pos.i++; // do
      const body = parseSequence(tokens, pos, new Set(["done"]));
      pos.i++; // done
      const command: Command =
        token === "while"
          ? { kind: "while", condition, body }
          : {
              kind: "while",
              condition: [{ op: ";", command: { kind: "simple", argv: ["!", ...flatten(condition)] } }],
              body,
            };
      seq.push({ op, command });
    } else {
      const argv: string[] = [];
      while (pos.i < tokens.length) {
        const t = tokens[pos.i] ?? "";
        if (t === ";" || t === "&&" || t === "||" || (argv.length === 0 && stop.has(t))) break;
        argv.push(t);
        pos.i++;
      }
      seq.push({ op, command: { kind: "simple", argv } });
    }
    op = ";";
  }
  return seq;
}

function flatten(seq: Sequence): string[] {
  return seq.flatMap((s) => (s.command.kind === "simple" ? s.command.argv : []));
}

/** Parses shell script text (`sh -c` argument). */
function parseScript(script: string, errexit: boolean): SimulatedProgram {
  return { errexit, body: parseSequence(tokenize(script), { i: 0 }, new Set()) };
}

/**
 * Builds the program a container runs from its `command` and `args` (the
 * entrypoint override) and `image` (named when neither is given).
 */
export function parseContainerProgram(
  command: string[] | undefined,
  args: string[] | undefined,
  image: string,
): SimulatedProgram {
  const argv = [...(command ?? []), ...(args ?? [])];
  if (argv.length === 0)
    return { errexit: false, body: [{ op: ";", command: { kind: "simple", argv: [`${image} (image entrypoint)`] } }] };
  return programFromArgv(argv);
}

function programFromArgv(argv: string[]): SimulatedProgram {
  const shell = basename(argv[0] ?? "");
  if (SHELLS.has(shell)) {
    let errexit = false;
    for (let i = 1; i < argv.length; i++) {
      const arg = argv[i] ?? "";
      if (!arg.startsWith("-")) break;
      if (arg.includes("e")) errexit = true;
      if (arg.includes("c")) return parseScript(argv[i + 1] ?? "", errexit);
    }
  }
  return { errexit: false, body: [{ op: ";", command: { kind: "simple", argv } }] };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Parses `sleep` arguments (`5`, `0.5`, `2m`, `infinity`) into simulated seconds (summed, like GNU sleep). */
function sleepSeconds(args: string[]): number {
  let total = 0;
  for (const arg of args) {
    if (arg === "infinity" || arg === "inf") return Number.POSITIVE_INFINITY;
    const m = arg.match(/^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/);
    if (!m) continue;
    const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ""] ?? 1;
    total += Number(m[1]) * unit;
  }
  return total;
}

async function runSimple(argv: string[], ctx: SimulatedProcessContext): Promise<number> {
  const [name = "", ...args] = argv;
  switch (basename(name)) {
    case "":
    case ":":
    case "true":
      return 0;
    case "false":
      return 1;
    case "!": {
      const code = await runSimple(args, ctx);
      return code === 0 ? 1 : 0;
    }
    case "echo": {
      let rest = args;
      while (rest[0] === "-n" || rest[0] === "-e" || rest[0] === "-E") rest = rest.slice(1);
      ctx.writeLine(rest.join(" "));
      return 0;
    }
    case "printf": {
      const [format = "", ...values] = args;
      let index = 0;
      const text = format
        .replace(/%[sd]/g, () => values[index++] ?? "")
        .replace(/\\n/g, "\n")
        .replace(/\\t/g, "\t");
      const lines = text.split("\n");
      if (lines[lines.length - 1] === "") lines.pop();
      for (const line of lines) ctx.writeLine(line);
      return 0;
    }
    case "sleep": {
      const seconds = sleepSeconds(args);
      if (seconds === Number.POSITIVE_INFINITY) {
        for (;;) await ctx.sleep(86400);
      }
      await ctx.sleep(seconds);
      return 0;
    }
    case "exit":
      throw new ExitSignal(Number.parseInt(args[0] ?? "0", 10) & 0xff);
    case "uname":
      ctx.writeLine(unameOutput(args, ctx));
      return 0;
    case "hostname":
      ctx.writeLine(ctx.hostname);
      return 0;
    case "cat":
      if (args[0] === "/proc/version") {
        ctx.writeLine(
          `Linux version ${ctx.kernel} (root@CBL-Mariner) (gcc (GCC) 11.2.0, GNU ld (GNU Binutils) 2.37) #1 SMP`,
        );
        return 0;
      }
      if (args[0]?.startsWith(SERVICE_ACCOUNT_DIR)) {
        if (ctx.serviceAccountToken === undefined || !args[0].endsWith("/token")) {
          ctx.writeLine(`cat: can't open '${args[0]}': No such file or directory`);
          return 1;
        }
        ctx.writeLine(ctx.serviceAccountToken);
        return 0;
      }
      break;
    case "sh":
    case "bash":
    case "ash":
    case "dash":
      return runProgram(programFromArgv(argv), ctx);
    case "wget":
      return runWget(args, ctx);
    case "curl":
      return runCurl(args, ctx);
    case "ls":
      if (args.some((a) => a.startsWith(SERVICE_ACCOUNT_DIR))) {
        if (ctx.serviceAccountToken === undefined) {
          ctx.writeLine(`ls: ${args.find((a) => a.startsWith(SERVICE_ACCOUNT_DIR)) ?? ""}: No such file or directory`);
          return 1;
        }
        for (const file of ["ca.crt", "namespace", "token"]) ctx.writeLine(file);
        return 0;
      }
      break;
    case "dd":
      return runDd(args, ctx);
    case "fallocate":
      return runFallocate(args, ctx);
  }
  ctx.writeLine(`${argv.join(" ")}: simulated command (not executed)`);
  return 0;
}

function unameOutput(args: string[], ctx: SimulatedProcessContext): string {
  const flags = args.join("").replace(/-/g, "");
  if (flags.includes("a")) return `Linux ${ctx.hostname} ${ctx.kernel} #1 SMP x86_64 x86_64 x86_64 GNU/Linux`;
  const parts: string[] = [];
  if (flags === "" || flags.includes("s")) parts.push("Linux");
  if (flags.includes("n")) parts.push(ctx.hostname);
  if (flags.includes("r")) parts.push(ctx.kernel);
  if (flags.includes("m")) parts.push("x86_64");
  return parts.join(" ");
}

async function runSequence(seq: Sequence, ctx: SimulatedProcessContext, errexit: boolean): Promise<number> {
  let status = 0;
  for (let i = 0; i < seq.length; i++) {
    const step = seq[i];
    if (!step) continue;
    if (step.op === "&&" && status !== 0) continue;
    if (step.op === "||" && status === 0) continue;
    if (step.command.kind === "simple") status = await runSimple(step.command.argv, ctx);
    else {
      status = 0;
      for (;;) {
        const condition = await runSequence(step.command.condition, ctx, false);
        if (condition !== 0) break;
        status = await runSequence(step.command.body, ctx, errexit);
        // A loop whose body never waits would spin forever without letting simulated time pass.
        await ctx.sleep(0);
      }
    }
    // `set -e` ignores failures that a following `&&`/`||` handles.
    const next = seq[i + 1];
    if (errexit && status !== 0 && next?.op !== "&&" && next?.op !== "||") throw new ExitSignal(status);
  }
  return status;
}

/**
 * Runs a program to completion and resolves with its exit code. Rejects only
 * with the error `ctx.sleep` rejects with (the container was killed).
 */
export async function runProgram(program: SimulatedProgram, ctx: SimulatedProcessContext): Promise<number> {
  try {
    return await runSequence(program.body, ctx, program.errexit);
  } catch (error) {
    if (error instanceof ExitSignal) return error.code;
    throw error;
  }
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
