import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID, timingSafeEqual } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import functionsLibrary from "@azure/functions";
import type { Cookie, HttpResponse as HttpResponseType, HttpResponseInit } from "@azure/functions";
import type { LogSink } from "./accessLog.js";
import { adminInvoke } from "./adminInvoke.js";
import { functionInvocationContext } from "./functionInvocationContext.js";
import type { FunctionRegistry, RegisteredFunction } from "./functionRegistry.js";
import { compileRouteTemplate, type CompiledRoute } from "./routeTemplate.js";
import type { TimerScheduler } from "./timerScheduler.js";

// The library is a webpack CommonJS bundle whose classes Node's ESM loader
// cannot see as named exports; take them from the default export.
const { HttpRequest, HttpResponse } = functionsLibrary;

/** Extra route served outside the route prefix (e.g. the local token issuer's JWKS). */
export type LocalRouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpDispatcherOptions {
  registry: FunctionRegistry;
  /** `extensions.http.routePrefix` from host.json. */
  routePrefix: string;
  /** Keys accepted for `authLevel: "function"`. */
  functionKeys: readonly string[];
  /** The master key: accepted for every auth level, required for `admin` and `/admin/functions/*`. */
  masterKey: string | undefined;
  /** Request body limit in bytes (larger → 413). */
  maxBodyBytes: number;
  /** Routes served outside the prefix, keyed by exact path. */
  localRoutes: Record<string, LocalRouteHandler>;
  log: LogSink;
  /** The timers `POST /admin/functions/{name}` runs. */
  timers: TimerScheduler;
  /** True once the host drains: new requests get 503. */
  isClosing: () => boolean;
}

interface HttpRoute {
  fn: RegisteredFunction;
  compiled: CompiledRoute;
  methods: readonly string[];
  authLevel: string;
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function keysEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What is written back: a body given whole (bytes), a stream, or none. */
interface Answer {
  status: number;
  headers: Headers;
  cookies: readonly Cookie[];
  body: Buffer | WebReadableStream<Uint8Array> | null;
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** An `HttpResponse` the function built itself: its body is streamed (it may be produced over time). */
function streamedAnswer(response: HttpResponseType): Answer {
  return {
    status: response.status,
    headers: response.headers,
    cookies: response.cookies,
    body: response.body as WebReadableStream<Uint8Array> | null,
  };
}

/**
 * The answer of an `HttpResponseInit`. A body given whole (absent, JSON, a string, bytes) is answered
 * as bytes, with the status and headers `new HttpResponse(init)` would have (the same default
 * `content-type`, names lower-cased and sorted by `Headers`), without building a `Response` and
 * reading its body stream back. Anything else goes through `HttpResponse`: form data and URL
 * parameters are read whole from it, streams and async iterables (log follow) stay streams.
 */
async function answerOf(init: HttpResponseInit): Promise<Answer> {
  const whole = wholeAnswer(init);
  if (whole) return whole;
  const response = new HttpResponse(init);
  const answer = streamedAnswer(response);
  if (answer.body === null || !(init.body instanceof URLSearchParams || init.body instanceof FormData)) return answer;
  return { ...answer, body: Buffer.from(await response.arrayBuffer()) };
}

function wholeAnswer(init: HttpResponseInit): Answer | undefined {
  const status = init.status ?? 200;
  // Statuses Response refuses (it throws: the function's answer becomes a 500) take that path.
  if (!Number.isInteger(status) || status < 200 || status > 599) return undefined;
  const headers = new Headers(init.headers);
  const base = { status, headers, cookies: init.cookies ?? [] };
  if (NULL_BODY_STATUSES.has(status)) return { ...base, body: null };
  if (init.jsonBody !== undefined && init.jsonBody !== null) {
    const text = JSON.stringify(init.jsonBody) as string | undefined;
    if (text === undefined) return undefined;
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return { ...base, body: Buffer.from(text, "utf8") };
  }
  const body: unknown = init.body;
  if (body === undefined || body === null) return { ...base, body: null };
  if (typeof body === "string") {
    if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
    return { ...base, body: Buffer.from(body, "utf8") };
  }
  if (body instanceof ArrayBuffer) return { ...base, body: Buffer.from(new Uint8Array(body)) };
  if (ArrayBuffer.isView(body))
    return { ...base, body: Buffer.from(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)) };
  return undefined;
}

/**
 * The HTTP side of the local Functions host: the route table (templates,
 * prefix, specificity), auth levels and keys, 404/405/401/413, the
 * `HttpRequest`/`InvocationContext` handed to the function, and the
 * function's `HttpResponse` written back (headers, cookies, streamed body).
 */
export class HttpDispatcher {
  readonly #options: HttpDispatcherOptions;
  #routes: HttpRoute[] = [];

  constructor(options: HttpDispatcherOptions) {
    this.#options = options;
  }

  /** Builds the route table from the registry. Throws on an invalid route or two registrations with one route and method. */
  buildRoutes(): void {
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
    // Neither header: HTTP/1.1 says there is no body (most GETs), so no stream iterator is set up for it.
    if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined)
      return Buffer.alloc(0);
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

  /** Answers one request (the server's request listener). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const invocationId = randomUUID();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    let routeTemplate = "(none)";
    const finish = (status: number, functionName?: string): void => {
      this.#options.log({
        level: "info",
        msg: "request",
        method,
        route: routeTemplate,
        status,
        durationMs: Date.now() - started,
        invocationId,
        function: functionName,
      });
    };
    const sendError = (status: number, code: string, message: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "x-ms-error-code": code,
        "x-ms-request-id": invocationId,
        ...extra,
      });
      res.end(errorBody(code, message));
      finish(status);
    };

    if (this.#options.isClosing()) {
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
      const authorized = this.#authorized(req, url, "admin");
      await adminInvoke(req, res, url, authorized, this.#options.timers, sendError, finish);
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
      sendError(405, "MethodNotAllowed", `Method ${method} is not allowed on ${url.pathname}; allowed: ${allow}.`, {
        allow,
      });
      return;
    }
    const { route, params } = chosen;
    routeTemplate = `/${route.compiled.template}`;
    if (!this.#authorized(req, url, route.authLevel)) {
      sendError(
        401,
        "Unauthorized",
        "A valid function key is required (x-functions-key header or code query parameter).",
      );
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
    const context = functionInvocationContext(route.fn, invocationId, this.#options.log);
    let answer: Answer;
    try {
      const result = await route.fn.handler(request, context);
      answer = result instanceof HttpResponse ? streamedAnswer(result) : await answerOf(result ?? {});
    } catch (error) {
      this.#options.log({
        level: "error",
        msg: "function threw",
        function: route.fn.name,
        invocationId,
        error: error instanceof Error ? error.message : String(error),
      });
      sendError(500, "InternalError", "The server encountered an internal error.");
      return;
    }
    const outHeaders: Record<string, string | string[]> = {};
    answer.headers.forEach((value, name) => {
      outHeaders[name] = value;
    });
    const cookies = answer.cookies.map((c) => {
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
    const responseBody = answer.body;
    if (responseBody === null || method === "HEAD") {
      res.writeHead(answer.status, outHeaders);
      res.end();
      finish(answer.status, route.fn.name);
      return;
    }
    if (Buffer.isBuffer(responseBody)) {
      // Status, headers and body leave in one write, with Content-Length. Written as headers, then a
      // chunk, then the chunked terminator, a small answer was several packets on loopback, and each
      // write wakes the reader (which may take the CPU from this process before the next one):
      // milliseconds on a request that otherwise takes a few (npm run bench: statusGet).
      outHeaders["content-length"] = String(responseBody.length);
      res.writeHead(answer.status, outHeaders);
      res.end(responseBody);
      finish(answer.status, route.fn.name);
      return;
    }
    // Streamed as the Functions host does with enableHttpStream: headers now,
    // the body as it is produced, with back-pressure (a slow reader slows the
    // producer), and a reader that goes away cancels the body stream.
    res.writeHead(answer.status, outHeaders);
    res.flushHeaders();
    try {
      await pipeline(Readable.fromWeb(responseBody, { highWaterMark: 16 * 1024 }), res);
    } catch (error) {
      if (!res.destroyed) {
        this.#options.log({
          level: "error",
          msg: "response stream failed",
          function: route.fn.name,
          invocationId,
          error: error instanceof Error ? error.message : String(error),
        });
        res.destroy();
      }
    }
    finish(answer.status, route.fn.name);
  }
}
