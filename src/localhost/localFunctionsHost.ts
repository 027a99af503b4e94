import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { stdoutLogSink, type LogSink } from "./accessLog.js";
import type { FunctionRegistry } from "./functionRegistry.js";
import { errorBody, HttpDispatcher, type LocalRouteHandler } from "./httpDispatcher.js";
import { TimerScheduler } from "./timerScheduler.js";

export type { LocalRouteHandler } from "./httpDispatcher.js";

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

const LEVEL_RANK: Record<string, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  information: 2,
  warn: 3,
  warning: 3,
  error: 4,
  critical: 5,
};

const MiB = 1024 * 1024;

/**
 * A small Azure Functions host for local development and tests: it serves the
 * registrations recorded by {@link installFunctionsCore} over `node:http` and
 * runs their timers. Behaviour follows the Functions host where the app can
 * observe it (route templates and prefix, auth levels and keys, 404/405,
 * `HttpRequest`/`InvocationContext` objects, NCRONTAB schedules with seconds,
 * `runOnStartup`, no overlapping runs of one timer,
 * `POST /admin/functions/{name}` to run a non-HTTP function). The HTTP side is
 * {@link HttpDispatcher}, the timers {@link TimerScheduler}, the admin call
 * {@link adminInvoke}; this class owns the server, the start order and the drain.
 */
export class LocalFunctionsHost {
  readonly #options: Required<Omit<LocalFunctionsHostOptions, "masterKey">> & { masterKey: string | undefined };
  readonly #server: Server;
  readonly #timers: TimerScheduler;
  readonly #http: HttpDispatcher;
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
    const log: LogSink = (line) => {
      if ((LEVEL_RANK[String(line.level ?? "info")] ?? 2) >= threshold) sink(line);
    };
    this.#options.log = log;
    this.#timers = new TimerScheduler({
      registry: this.#options.registry,
      enableTimers: this.#options.enableTimers,
      log,
      track: (work) => this.#track(work),
    });
    this.#http = new HttpDispatcher({
      registry: this.#options.registry,
      routePrefix: this.#options.routePrefix,
      functionKeys: this.#options.functionKeys,
      masterKey: this.#options.masterKey,
      maxBodyBytes: this.#options.maxBodyBytes,
      localRoutes: this.#options.localRoutes,
      log,
      timers: this.#timers,
      isClosing: () => this.#closing,
    });
    this.#server = createServer((req, res) => {
      const work = this.#http.handle(req, res).catch((error: unknown) => {
        log({
          level: "error",
          msg: "host failure",
          error: error instanceof Error ? error.message : String(error),
        });
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
    this.#http.buildRoutes();
    this.#timers.schedule();
    for (const hook of this.#options.registry.hooks("appStart")) await hook({ hookData: {} });
    this.#timers.runOnStartup();
  }

  /**
   * Runs a timer function now and resolves when that run has finished.
   * If a run is in progress, waits for it first (runs never overlap).
   * @throws if no timer function has that name.
   */
  async fireTimer(name: string): Promise<void> {
    await this.#timers.fire(name);
  }

  #track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /**
   * Graceful stop: refuse new work, stop timers, wait for in-flight requests
   * and timer runs (at most `drainTimeoutMs`, default 25 s), close the server.
   * Idempotent.
   */
  async close(drainTimeoutMs = 25_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#timers.stop();
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
