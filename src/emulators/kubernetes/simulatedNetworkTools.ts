/**
 * `wget` and `curl` of the simulated container commands (see
 * `simulatedCommand.ts`): they connect through the cluster network and print
 * what the real tools print for a body, a refusal, an unresolvable name or a
 * timeout, spending the simulated time the failure would take.
 */
import type { ConnectRequest, ConnectResult, SimulatedProcessContext } from "./simulatedCommand.js";

/** Linux gives up a TCP connect after ~130 s of unanswered SYNs (tcp_syn_retries = 6). */
const KERNEL_CONNECT_TIMEOUT_SECONDS = 130;
/** musl/glibc resolver: 5 s per attempt, 2 attempts. */
const RESOLVER_TIMEOUT_SECONDS = 10;

function parseUrl(text: string): ConnectRequest | undefined {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  try {
    const url = new URL(withScheme);
    const scheme = url.protocol === "https:" ? "https" : "http";
    return {
      scheme,
      host: url.hostname,
      port: url.port ? Number(url.port) : scheme === "https" ? 443 : 80,
      path: `${url.pathname}${url.search}`,
    };
  } catch {
    return undefined;
  }
}

/** Splits tool arguments into flags (with values where `valued` says so) and the URL. */
function toolArgs(args: string[], valued: Set<string>): { flags: Map<string, string>; url: string | undefined } {
  const flags = new Map<string, string>();
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg.startsWith("--")) {
      const [name = "", value] = arg.split("=", 2);
      if (value !== undefined) flags.set(name, value);
      else if (valued.has(name)) flags.set(name, args[++i] ?? "");
      else flags.set(name, "");
    } else if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const name = `-${arg[j] ?? ""}`;
        if (valued.has(name)) {
          const rest = arg.slice(j + 1);
          flags.set(name, rest !== "" ? rest : (args[++i] ?? ""));
          break;
        }
        flags.set(name, "");
      }
    } else url ??= arg;
  }
  return { flags, url };
}

function seconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** BusyBox `wget` (the probe images' and Alpine's). */
export async function runWget(args: string[], ctx: SimulatedProcessContext): Promise<number> {
  const { flags, url } = toolArgs(
    args,
    new Set(["-O", "-T", "--timeout", "--header", "-U", "-Y", "-P", "--output-document"]),
  );
  const request = url ? parseUrl(url) : undefined;
  if (!request) {
    ctx.writeLine("BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary.");
    ctx.writeLine(
      "Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR] [--post-data STR | --post-file FILE] [-Y on/off] [-P DIR] [-U AGENT] [-T SEC] URL...",
    );
    return 1;
  }
  const timeout = seconds(flags.get("-T") ?? flags.get("--timeout"));
  const quiet = flags.has("-q");
  const result = await connectWithTimeouts(request, timeout, ctx);
  if (result.outcome === "unresolved") {
    ctx.writeLine(`wget: bad address '${request.host}'`);
    return 1;
  }
  if (!quiet) ctx.writeLine(`Connecting to ${request.host} (${result.ip}:${request.port})`);
  if (result.outcome === "timeout") {
    ctx.writeLine(
      timeout !== undefined
        ? "wget: download timed out"
        : `wget: can't connect to remote host (${result.ip}): Connection timed out`,
    );
    return 1;
  }
  if (result.outcome === "refused") {
    ctx.writeLine(`wget: can't connect to remote host (${result.ip}): Connection refused`);
    return 1;
  }
  if (result.status >= 400) {
    ctx.writeLine(`wget: server returned error: HTTP/1.1 ${result.status} ${result.statusText}`);
    return 1;
  }
  const output = flags.get("-O") ?? flags.get("--output-document");
  if (output === "-") for (const line of result.body.split("\n")) ctx.writeLine(line);
  else if (!quiet) ctx.writeLine(`saving to '${output ?? "index.html"}'`);
  return 0;
}

/** curl 8. */
export async function runCurl(args: string[], ctx: SimulatedProcessContext): Promise<number> {
  const { flags, url } = toolArgs(
    args,
    new Set([
      "-m",
      "--max-time",
      "--connect-timeout",
      "-H",
      "--header",
      "-o",
      "--output",
      "-w",
      "-X",
      "-d",
      "-A",
      "-u",
    ]),
  );
  const request = url ? parseUrl(url) : undefined;
  const showErrors = !flags.has("-s") || flags.has("-S") || flags.has("--show-error");
  const fail = (code: number, text: string): number => {
    if (showErrors) ctx.writeLine(`curl: (${code}) ${text}`);
    return code;
  };
  if (!request) return fail(2, "no URL specified");
  const connectTimeout = seconds(flags.get("--connect-timeout"));
  const maxTime = seconds(flags.get("-m") ?? flags.get("--max-time"));
  const limit = [connectTimeout, maxTime].filter((t): t is number => t !== undefined).sort((a, b) => a - b)[0];
  const result = await connectWithTimeouts(request, limit, ctx);
  if (result.outcome === "unresolved") return fail(6, `Could not resolve host: ${request.host}`);
  if (result.outcome === "timeout") {
    if (limit !== undefined)
      return fail(
        28,
        `Failed to connect to ${request.host} port ${request.port} after ${Math.round(limit * 1000)} ms: Timeout was reached`,
      );
    return fail(
      28,
      `Failed to connect to ${request.host} port ${request.port} after ${KERNEL_CONNECT_TIMEOUT_SECONDS * 1000} ms: Connection timed out`,
    );
  }
  if (result.outcome === "refused")
    return fail(7, `Failed to connect to ${request.host} port ${request.port} after 0 ms: Couldn't connect to server`);
  if (request.scheme === "https" && !flags.has("-k") && !flags.has("--insecure") && result.status !== 0) {
    return fail(60, "SSL certificate problem: unable to get local issuer certificate");
  }
  if (result.status >= 400 && (flags.has("-f") || flags.has("--fail")))
    return fail(22, `The requested URL returned error: ${result.status}`);
  for (const line of result.body.split("\n")) ctx.writeLine(line);
  return 0;
}

/** Resolves and connects, spending simulated time as the failure would (capped by the tool's timeout). */
async function connectWithTimeouts(
  request: ConnectRequest,
  timeout: number | undefined,
  ctx: SimulatedProcessContext,
): Promise<ConnectResult> {
  const result: ConnectResult = ctx.connect ? ctx.connect(request) : { outcome: "timeout", ip: request.host };
  if (result.outcome === "unresolved")
    await ctx.sleep(Math.min(timeout ?? RESOLVER_TIMEOUT_SECONDS, RESOLVER_TIMEOUT_SECONDS));
  if (result.outcome === "timeout") await ctx.sleep(timeout ?? KERNEL_CONNECT_TIMEOUT_SECONDS);
  return result;
}
