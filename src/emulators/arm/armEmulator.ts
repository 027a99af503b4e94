import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo, Socket } from "node:net";
import type { SimulatedCloud } from "../simulatedCloud.js";
import { ArmError } from "./armError.js";
import { defaultArmEmulatorSettings, type ArmEmulatorSettings } from "./armEmulatorSettings.js";
import { ArmEmulatorState } from "./armEmulatorState.js";
import type { ArmContext, ArmRequest, ArmResponse, ArmRoute } from "./armRoute.js";
import { computeSkusRoutes } from "./computeSkusRoutes.js";
import { containerServiceRoutes } from "./containerServiceRoutes.js";
import { FaultInjector, type FaultRule } from "./faultInjector.js";
import { featuresRoutes } from "./featuresRoutes.js";
import { RequestLog, type RequestLogEntry } from "./requestLog.js";
import { resourcesRoutes } from "./resourcesRoutes.js";
import { sharedSwaggerValidator } from "./swaggerValidator.js";

/** Options of {@link startArmEmulator}. */
export interface StartArmEmulatorOptions {
  /** The shared simulated cloud (clock, clusters); the emulator writes clusters and pools into it. */
  cloud: SimulatedCloud;
  /** Server certificate and key (PEM), e.g. from `loadOrCreateTlsMaterial`. */
  tls: { certPem: string; keyPem: string };
  /** Port on 127.0.0.1; default 0 (a free port). */
  port?: number;
  /** Overrides of {@link defaultArmEmulatorSettings}; `features`/`providers` replace the defaults wholesale. */
  settings?: Partial<ArmEmulatorSettings>;
}

/** A running ARM emulator. */
export interface ArmEmulator {
  /** `https://127.0.0.1:<port>`: the `endpoint` for the Azure SDK clients. */
  url: string;
  port: number;
  /** Fault rules (also behind `/_emulator/faults`). */
  faults: FaultInjector;
  /** Requests answered (also behind `/_emulator/requests`). */
  requestLog: RequestLog;
  /** Features, providers, resource groups, clusters, pools, operations: for test set-up and inspection. */
  state: ArmEmulatorState;
  /** The live settings (mutable: changes apply to later requests). */
  settings: ArmEmulatorSettings;
  /** Stops listening, drops open connections and pending timers. Idempotent. */
  close(): Promise<void>;
}

interface CompiledRoute extends ArmRoute {
  regexp: RegExp;
  names: string[];
}

function compile(route: ArmRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.template
    .split("/")
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (m?.[1]) {
        names.push(m[1]);
        return "([^/]+)";
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { ...route, regexp: new RegExp(`^${source}/?$`, "i"), names };
}

const MAX_BODY = 4 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

/**
 * Starts the ARM emulator: an HTTPS server on 127.0.0.1 serving
 * Microsoft.Features, Microsoft.Resources (providers, resource groups),
 * Microsoft.ContainerService (managedClusters, agentPools, operations,
 * credentials) and Microsoft.Compute/skus as the reference swaggers describe
 * them, plus the unauthenticated loopback control surface `/_emulator/`
 * (`GET|DELETE /_emulator/requests`, `GET|POST|DELETE /_emulator/faults`,
 * `DELETE /_emulator/faults/{id}`).
 *
 * Every request except `/_emulator/` needs `Authorization: Bearer <any>`.
 * Delays run on `cloud.clock` (simulated time). `Retry-After` is sent as whole
 * wall seconds rounded **up** (never earlier than asked; 0 only when the
 * scaled wait is 0) and `retry-after-ms` / `x-ms-retry-after-ms` carry the
 * exact scaled milliseconds.
 */
export async function startArmEmulator(options: StartArmEmulatorOptions): Promise<ArmEmulator> {
  const { cloud } = options;
  const settings: ArmEmulatorSettings = { ...defaultArmEmulatorSettings(), ...options.settings };
  const state = new ArmEmulatorState(cloud, settings);
  const faults = new FaultInjector();
  const requestLog = new RequestLog();
  let baseUrl = "";
  const ctx: ArmContext = {
    cloud,
    settings,
    state,
    faults,
    validator: sharedSwaggerValidator(),
    baseUrl: () => baseUrl,
  };
  const routes = [
    ...featuresRoutes(ctx),
    ...containerServiceRoutes(ctx),
    ...computeSkusRoutes(ctx),
    ...resourcesRoutes(ctx),
  ].map(compile);

  function retryHeaders(simulatedSeconds: number): { headers: Record<string, string>; wallMs: number } {
    const wallMs = cloud.clock.toWallMs(simulatedSeconds * 1000);
    const ms = String(Math.max(0, Math.round(wallMs)));
    return {
      headers: {
        "Retry-After": String(Math.max(0, Math.ceil(wallMs / 1000))),
        "retry-after-ms": ms,
        "x-ms-retry-after-ms": ms,
      },
      wallMs,
    };
  }

  /** The client's `x-ms-correlation-request-id` per response being answered (ARM echoes it; otherwise it makes one). */
  const correlationOf = new WeakMap<ServerResponse, string>();

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const requestId = randomUUID();
    const base: Record<string, string> = {
      "x-ms-request-id": requestId,
      "x-ms-correlation-request-id": correlationOf.get(res) ?? requestId,
      "Cache-Control": "no-cache",
      ...headers,
    };
    if (body === undefined || status === 204 || status === 304) {
      res.writeHead(status, { ...base, "Content-Length": "0" });
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...base,
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress))
      return send(res, 403, { error: { code: "Forbidden", message: "/_emulator/ is loopback-only." } });
    const method = req.method ?? "GET";
    if (path === "/_emulator/requests") {
      if (method === "GET") return send(res, 200, requestLog.toJSON());
      if (method === "DELETE") {
        requestLog.clear();
        return send(res, 204, undefined);
      }
    }
    if (path === "/_emulator/faults") {
      if (method === "GET") return send(res, 200, { rules: faults.list() });
      if (method === "DELETE") {
        faults.clear();
        return send(res, 204, undefined);
      }
      if (method === "POST") {
        try {
          const parsed = JSON.parse(raw.toString("utf8") || "null") as FaultRule | FaultRule[];
          const ids = (Array.isArray(parsed) ? parsed : [parsed]).map((r) => faults.add(r));
          return send(res, 201, { ids });
        } catch (e) {
          return send(res, 400, { error: { code: "InvalidFaultRule", message: (e as Error).message } });
        }
      }
    }
    const m = /^\/_emulator\/faults\/([^/]+)$/.exec(path);
    if (m?.[1] && method === "DELETE")
      return faults.remove(m[1])
        ? send(res, 204, undefined)
        : send(res, 404, { error: { code: "NotFound", message: "no such rule" } });
    return send(res, 404, { error: { code: "NotFound", message: `no emulator control route ${method} ${path}` } });
  }

  function route(
    method: string,
    path: string,
  ): { route: CompiledRoute; params: Record<string, string> } | { methodMismatch: boolean } {
    let pathMatched = false;
    for (const r of routes) {
      const m = r.regexp.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1] ?? "");
      });
      return { route: r, params };
    }
    return { methodMismatch: pathMatched };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedWall = Date.now();
    const arrivedSim = cloud.clock.nowMs();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const path = url.pathname;
    const raw = await readBody(req);
    if (path.startsWith("/_emulator/")) return control(req, res, path, raw);
    const correlation = req.headers["x-ms-correlation-request-id"];
    const correlationId = typeof correlation === "string" && correlation.length <= 128 ? correlation : undefined;
    if (correlationId !== undefined) correlationOf.set(res, correlationId);

    const apiVersion = url.searchParams.get("api-version") ?? undefined;
    const matched = route(method, path);
    const template = "route" in matched ? matched.route.template : "unmatched";
    const entry: Omit<RequestLogEntry, "seq" | "status" | "durationMs"> = {
      wallTime: new Date(arrivedWall).toISOString(),
      simulatedTime: new Date(arrivedSim).toISOString(),
      method,
      path,
      template,
    };
    if (apiVersion !== undefined) entry.apiVersion = apiVersion;
    if (correlationId !== undefined) entry.correlationId = correlationId;
    if (settings.recordRequestBodies && method !== "GET" && method !== "DELETE" && raw.length > 0) {
      try {
        entry.body = JSON.parse(raw.toString("utf8")) as unknown;
      } catch {
        entry.body = raw.toString("utf8");
      }
    }
    const finish = (status: number, extra: Partial<RequestLogEntry> = {}): void => {
      requestLog.add({ ...entry, ...extra, status, durationMs: Date.now() - arrivedWall });
    };

    const rule = faults.match(method, path, "request");
    if (rule) {
      const action = rule.action;
      if ("reset" in action) {
        finish(0, { faultId: rule.id });
        req.socket.destroy();
        return;
      }
      if ("latencyMs" in action) {
        await sleep(action.latencyMs);
        entry.faultId = rule.id;
      } else if ("status" in action) {
        if (action.status === 429) {
          const { headers, wallMs } = retryHeaders(action.retryAfterSeconds ?? 10);
          send(
            res,
            429,
            {
              error: {
                code: "TooManyRequests",
                message: "The request is being throttled. Retry after the time given in the Retry-After header.",
              },
            },
            headers,
          );
          finish(429, { faultId: rule.id, retryAfterMs: Math.round(wallMs), retryAfterAppliesTo: [path] });
          return;
        }
        const code = action.code ?? (action.status === 503 ? "ServiceUnavailable" : "InternalServerError");
        const message =
          action.message ??
          (action.status === 503
            ? "The service is temporarily unavailable. Please retry."
            : "An internal server error occurred. Please retry.");
        send(res, action.status, { error: { code, message } });
        finish(action.status, { faultId: rule.id });
        return;
      }
    }

    let response: ArmResponse;
    try {
      const auth = req.headers.authorization;
      if (!auth) {
        throw new ArmError(
          401,
          "AuthenticationFailed",
          "Authentication failed. The 'Authorization' header is missing.",
          undefined,
          {
            "WWW-Authenticate":
              'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
          },
        );
      }
      if (!/^Bearer\s+\S+/i.test(auth)) {
        throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", undefined, {
          "WWW-Authenticate":
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The access token is invalid."',
        });
      }
      if (!("route" in matched)) {
        throw matched.methodMismatch
          ? new ArmError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`)
          : new ArmError(
              404,
              "InvalidResourceType",
              `The ARM emulator does not serve '${path}' (no such resource type or action).`,
            );
      }
      if (apiVersion === undefined || apiVersion === "") {
        throw new ArmError(
          400,
          "MissingApiVersionParameter",
          "The api-version query parameter (?api-version=) is required for all requests.",
        );
      }
      if (!matched.route.apiVersions.includes(apiVersion)) {
        throw new ArmError(
          400,
          "InvalidApiVersionParameter",
          `The api-version '${apiVersion}' is invalid. The supported versions are '${matched.route.apiVersions.join(",")}'.`,
        );
      }
      let body: unknown;
      if (raw.length > MAX_BODY) throw new ArmError(413, "RequestEntityTooLarge", "The request content is too large.");
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new ArmError(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body is not valid JSON.",
          );
        }
      }
      const armReq: ArmRequest = {
        method,
        path,
        params: matched.params,
        query: url.searchParams,
        body,
        apiVersion,
        headers: req.headers,
      };
      response = await matched.route.handler(armReq);
    } catch (e) {
      if (e instanceof ArmError) {
        response = { status: e.status, body: e.toBody(), headers: e.headers };
      } else {
        response = {
          status: 500,
          body: { error: { code: "InternalServerError", message: `ARM emulator error: ${(e as Error).message}` } },
        };
      }
    }
    const headers = { ...response.headers };
    const extra: Partial<RequestLogEntry> = {};
    if (response.retryAfter && settings.sendRetryAfter) {
      const r = retryHeaders(response.retryAfter.simulatedSeconds);
      Object.assign(headers, r.headers);
      extra.retryAfterMs = Math.round(r.wallMs);
      extra.retryAfterAppliesTo = response.retryAfter.appliesTo;
    }
    send(res, response.status, method === "HEAD" ? undefined : response.body, headers);
    finish(response.status, extra);
  }

  const server: Server = createServer(
    { cert: options.tls.certPem, key: options.tls.keyPem, keepAlive: true },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, { error: { code: "InternalServerError", message: (e as Error).message } });
        else res.destroy();
      });
    },
  );
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port ?? 0, host: "127.0.0.1", backlog: 2048 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    faults,
    requestLog,
    state,
    settings,
    close() {
      closing ??= new Promise<void>((resolve) => {
        state.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
