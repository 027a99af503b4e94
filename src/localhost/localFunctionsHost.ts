import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import functionsLibrary from "@azure/functions";
import type { HttpResponse as HttpResponseType, InvocationContext as InvocationContextType } from "@azure/functions";
import { Cron } from "croner";
import type { FunctionRegistry, RegisteredFunction } from "./functionRegistry.js";
import { compileRouteTemplate, type CompiledRoute } from "./routeTemplate.js";
import { stdoutLogSink, type LogSink } from "./accessLog.js";

// The library is a webpack CommonJS bundle whose classes Node's ESM loader
// cannot see as named exports; take them from the default export.
const { HttpRequest, HttpResponse, InvocationContext } = functionsLibrary;

/** Extra route served outside the route prefix (e.g. the local token issuer's JWKS). */
export type LocalRouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface LocalFunctionsHostOptions {
  registry: FunctionRegistry;
  /** `extensions.http.routePrefix` from host.json (default `api`). */
  routePrefix?: string;
  /** Listen port; 0 picks a free one. Default 7071. */
  port?: number;
  /** Listen address; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Keys accepted for `authLevel: "function"`. */
  functionKeys?: readonly string[];
  /** The master key: accepted for every auth level, required for `admin` and `/admin/functions/*`. */
  masterKey?: string;
  /** Request body limit in bytes; default 1 MiB (larger → 413). */
  maxBodyBytes?: number;
  /** Start timer schedules (default true). Tests may set false and fire timers by hand. */
  enableTimers?: boolean;
  /** Routes served outside the prefix, keyed by exact path. */
  localRoutes?: Record<string, LocalRouteHandler>;
  log?: LogSink;
  /** Lines below this level are dropped (default `info`; `LOG_LEVEL`). */
  logLevel?: "debug" | "info" | "warn" | "error";
}

const LEVEL_RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, information: 2, warn: 3, warning: 3, error: 4, critical: 5 };

interface HttpRoute {
  fn: RegisteredFunction;
  compiled: CompiledRoute;
  methods: readonly string[];
  authLevel: string;
}

interface TimerState {
  fn: RegisteredFunction;
  cron: Cron | undefined;
  running: Promise<void> | undefined;
  last: Date | undefined;
}

const MiB = 1024 * 1024;

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function keysEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A small Azure Functions host for local development and tests: it serves the
 * registrations recorded by {@link installFunctionsCore} over `node:http` and
 * runs their timers. Behaviour follows the Functions host where the app can
 * observe it (route templates and prefix, auth levels and keys, 404/405,
 * `HttpRequest`/`InvocationContext` objects, NCRONTAB schedules with seconds,
 * `runOnStartup`, no overlapping runs of one timer,
 * `POST /admin/functions/{name}` to run a non-HTTP function).
 */
export class LocalFunctionsHost {
  readonly #options: Required<Omit<LocalFunctionsHostOptions, "masterKey">> & { masterKey: string | undefined };
  readonly #server: Server;
  #routes: HttpRoute[] = [];
  readonly #timers = new Map<string, TimerState>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing = false;

  constructor(options: LocalFunctionsHostOptions) {
    this.#options = {
      routePrefix: "api",
      port: 7071,
      host: "127.0.0.1",
      functionKeys: [],
      maxBodyBytes: MiB,
      enableTimers: true,
      localRoutes: {},
      log: stdoutLogSink,
      logLevel: "info",
      ...options,
      masterKey: options.masterKey,
    };
    const sink = this.#options.log;
    const threshold = LEVEL_RANK[this.#options.logLevel] ?? 2;
    this.#options.log = (line) => {
      if ((LEVEL_RANK[String(line.level ?? "info")] ?? 2) >= threshold) sink(line);
    };
    this.#server = createServer((req, res) => {
      const work = this.#handle(req, res).catch((error: unknown) => {
        this.#options.log({ level: "error", msg: "host failure", error: error instanceof Error ? error.message : String(error) });
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json; charset=utf-8", "x-ms-error-code": "InternalError" });
        }
        res.end(errorBody("InternalError", "The server encountered an internal error."));
      });
      this.#track(work);
    });
    this.#server.keepAliveTimeout = 5000;
  }

  /** Base URL once listening, e.g. `http://127.0.0.1:7071`. */
  get url(): string {
    const address = this.#server.address() as AddressInfo | null;
    if (!address) throw new Error("host is not listening");
    return `http://${this.#options.host}:${address.port}`;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Listens without serving registrations yet (so a port can be known first). */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
  }

  /**
   * Builds the route table from the registry and starts timers. Call after the
   * app's registration modules were imported. Throws on an invalid route or
   * schedule, or two registrations with the same route and method.
   */
  async start(): Promise<void> {
    const prefix = this.#options.routePrefix.replace(/^\/+|\/+$/g, "");
    this.#routes = this.#options.registry.http().map((fn) => {
      const route = (fn.trigger.route ?? fn.name).replace(/^\/+/, "");
      const template = prefix === "" ? route : `${prefix}/${route}`;
      return {
        fn,
        compiled: compileRouteTemplate(template),
        methods: (fn.trigger.methods ?? ["GET", "POST"]).map((m) => m.toUpperCase()),
        authLevel: (fn.trigger.authLevel ?? "function").toLowerCase(),
      };
    });
    const seen = new Set<string>();
    for (const r of this.#routes) {
      for (const m of r.methods) {
        const key = `${m} ${r.compiled.template.toLowerCase()}`;
        if (seen.has(key)) throw new Error(`Two functions share route ${key}`);
        seen.add(key);
      }
    }
    // More literal segments first, so `jobs/list` wins over `jobs/{name}`.
    this.#routes.sort((a, b) => b.compiled.specificity - a.compiled.specificity);

    for (const fn of this.#options.registry.timers()) {
      const schedule = String(fn.trigger.schedule ?? "");
      const fields = schedule.trim().split(/\s+/);
      if (fields.length !== 6) throw new Error(`Timer "${fn.name}": schedule "${schedule}" must be a six-field NCRONTAB expression`);
      const state: TimerState = { fn, cron: undefined, running: undefined, last: undefined };
      if (this.#options.enableTimers) {
        state.cron = new Cron(schedule, { protect: true, catch: false }, () => {
          if (state.running) {
            this.#options.log({ level: "info", msg: "timer skipped: previous run still in progress", function: fn.name });
            return;
          }
          void this.#runTimer(state, false);
        });
      } else {
        // Validate the expression even when timers are off.
        new Cron(schedule, { paused: true }).stop();
      }
      this.#timers.set(fn.name.toLowerCase(), state);
    }
    for (const hook of this.#options.registry.hooks("appStart")) await hook({ hookData: {} });
    if (this.#options.enableTimers) {
      for (const state of this.#timers.values()) {
        if (state.fn.trigger.runOnStartup === true) void this.#runTimer(state, false);
      }
    }
  }

  /**
   * Runs a timer function now and resolves when that run has finished.
   * If a run is in progress, waits for it first (runs never overlap).
   * @throws if no timer function has that name.
   */
  async fireTimer(name: string): Promise<void> {
    const state = this.#timers.get(name.toLowerCase());
    if (!state) throw new Error(`No timer function named "${name}"`);
    while (state.running) await state.running.catch(() => undefined);
    await this.#runTimer(state, false);
  }

  async #runTimer(state: TimerState, isPastDue: boolean): Promise<void> {
    const invocationId = randomUUID();
    const started = Date.now();
    const context = this.#context(state.fn, invocationId);
    const timerInfo = {
      isPastDue,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: (state.last ?? new Date(0)).toISOString(),
        next: state.cron?.nextRun()?.toISOString() ?? new Date(0).toISOString(),
        lastUpdated: new Date().toISOString(),
      },
    };
    const run = (async () => {
      try {
        await state.fn.handler(timerInfo, context);
        this.#options.log({ level: "info", msg: "timer", function: state.fn.name, outcome: "succeeded", durationMs: Date.now() - started, invocationId });
      } catch (error) {
        this.#options.log({ level: "error", msg: "timer", function: state.fn.name, outcome: "failed", durationMs: Date.now() - started, invocationId, error: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        state.last = new Date(started);
        state.running = undefined;
      }
    })();
    state.running = run;
    this.#track(run.catch(() => undefined));
    await run;
  }

  #context(fn: RegisteredFunction, invocationId: string): InvocationContextType {
    const log = this.#options.log;
    return new InvocationContext({
      invocationId,
      functionName: fn.name,
      options: { trigger: { ...fn.trigger, name: fn.trigger.name ?? fn.name, type: fn.trigger.type } },
      logHandler: (level, ...args) => {
        log({ level: level === "warning" ? "warn" : level === "information" ? "info" : level, msg: args.map(String).join(" "), function: fn.name, invocationId });
      },
    });
  }

  #track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #authorized(req: IncomingMessage, url: URL, level: string): boolean {
    if (level === "anonymous") return true;
    const given = (req.headers["x-functions-key"] as string | undefined) ?? url.searchParams.get("code") ?? undefined;
    if (!given) return false;
    const master = this.#options.masterKey;
    if (master !== undefined && keysEqual(given, master)) return true;
    if (level === "admin") return false;
    return this.#options.functionKeys.some((k) => keysEqual(given, k));
  }

  async #readBody(req: IncomingMessage): Promise<Buffer | "tooLarge"> {
    const limit = this.#options.maxBodyBytes;
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      req.resume();
      return "tooLarge";
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        req.resume();
        return "tooLarge";
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const invocationId = randomUUID();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    let routeTemplate = "(none)";
    const finish = (status: number, functionName?: string): void => {
      this.#options.log({ level: "info", msg: "request", method, route: routeTemplate, status, durationMs: Date.now() - started, invocationId, function: functionName });
    };
    const sendError = (status: number, code: string, message: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-error-code": code, "x-ms-request-id": invocationId, ...extra });
      res.end(errorBody(code, message));
      finish(status);
    };

    if (this.#closing) {
      res.setHeader("connection", "close");
      sendError(503, "ServiceUnavailable", "The host is shutting down.", { "retry-after": "5" });
      return;
    }

    const local = this.#options.localRoutes[url.pathname];
    if (local) {
      routeTemplate = url.pathname;
      local(req, res);
      res.once("finish", () => finish(res.statusCode));
      return;
    }

    if (url.pathname.toLowerCase().startsWith("/admin/functions/") && method === "POST") {
      routeTemplate = "/admin/functions/{name}";
      await this.#adminInvoke(req, res, url, sendError, finish);
      return;
    }

    const candidates = this.#routes
      .map((route) => ({ route, params: route.compiled.match(url.pathname) }))
      .filter((c): c is { route: HttpRoute; params: Record<string, string> } => c.params !== undefined);
    if (candidates.length === 0) {
      sendError(404, "NotFound", `No route matches ${url.pathname}.`);
      return;
    }
    const chosen = candidates.find((c) => c.route.methods.includes(method));
    if (!chosen) {
      const allow = [...new Set(candidates.flatMap((c) => c.route.methods))].sort().join(", ");
      routeTemplate = `/${candidates[0]!.route.compiled.template}`;
      sendError(405, "MethodNotAllowed", `Method ${method} is not allowed on ${url.pathname}; allowed: ${allow}.`, { allow });
      return;
    }
    const { route, params } = chosen;
    routeTemplate = `/${route.compiled.template}`;
    if (!this.#authorized(req, url, route.authLevel)) {
      sendError(401, "Unauthorized", "A valid function key is required (x-functions-key header or code query parameter).");
      return;
    }
    const body = await this.#readBody(req);
    if (body === "tooLarge") {
      res.setHeader("connection", "close");
      sendError(413, "PayloadTooLarge", `The request body exceeds ${this.#options.maxBodyBytes} bytes.`);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      params,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const context = this.#context(route.fn, invocationId);
    let response: HttpResponseType;
    try {
      const result = await route.fn.handler(request, context);
      response = result instanceof HttpResponse ? result : new HttpResponse((result ?? {}));
    } catch (error) {
      this.#options.log({ level: "error", msg: "function threw", function: route.fn.name, invocationId, error: error instanceof Error ? error.message : String(error) });
      sendError(500, "InternalError", "The server encountered an internal error.");
      return;
    }
    const outHeaders: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      outHeaders[name] = value;
    });
    const cookies = response.cookies.map((c) => {
      let s = `${c.name}=${encodeURIComponent(c.value)}`;
      if (c.path) s += `; Path=${c.path}`;
      if (c.domain) s += `; Domain=${c.domain}`;
      if (c.expires) s += `; Expires=${(c.expires instanceof Date ? c.expires : new Date(c.expires)).toUTCString()}`;
      if (c.maxAge !== undefined) s += `; Max-Age=${c.maxAge}`;
      if (c.secure) s += "; Secure";
      if (c.httpOnly) s += "; HttpOnly";
      if (c.sameSite) s += `; SameSite=${c.sameSite}`;
      return s;
    });
    if (cookies.length > 0) outHeaders["set-cookie"] = cookies;
    const payload = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, outHeaders);
    res.end(method === "HEAD" ? undefined : payload);
    finish(response.status, route.fn.name);
  }

  async #adminInvoke(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    sendError: (status: number, code: string, message: string) => void,
    finish: (status: number, fn?: string) => void,
  ): Promise<void> {
    if (!this.#authorized(req, url, "admin")) {
      sendError(401, "Unauthorized", "The master key is required (x-functions-key header).");
      return;
    }
    req.resume();
    const name = decodeURIComponent(url.pathname.slice("/admin/functions/".length));
    if (!this.#timers.has(name.toLowerCase())) {
      sendError(404, "NotFound", `No non-HTTP function named "${name}".`);
      return;
    }
    // The Azure host answers 202 at once; this one answers after the run so
    // scripts and tests can rely on its effects.
    try {
      await this.fireTimer(name);
      res.writeHead(202).end();
      finish(202, name);
    } catch {
      sendError(500, "InternalError", `Function "${name}" failed; see the host log.`);
    }
  }

  /**
   * Graceful stop: refuse new work, stop timers, wait for in-flight requests
   * and timer runs (at most `drainTimeoutMs`, default 25 s), close the server.
   * Idempotent.
   */
  async close(drainTimeoutMs = 25_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const state of this.#timers.values()) state.cron?.stop();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const drained = Promise.allSettled([...this.#inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
    clearTimeout(timer);
    for (const hook of this.#options.registry.hooks("appTerminate")) await hook({ hookData: {} });
    this.#server.closeAllConnections();
    await closed;
  }
}
