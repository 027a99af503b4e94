import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import functions, { type HttpFunctionOptions, type HttpResponseInit } from "@azure/functions";
import { Cron } from "croner";
import { buildServices, type Services } from "../../src/composition.js";
import { simulatedPolicyFile } from "../../src/config/simulatedPolicy.js";
import { reconcileJobsTimer } from "../../src/domain/jobs/reconcileJobsTimer.js";
import { reconcileOperationsTimer } from "../../src/domain/operations/reconcileOperationsTimer.js";
import { reconcileWebhooksTimer } from "../../src/domain/webhooks/reconcileWebhooksTimer.js";
import { auditHandlers } from "../../src/http/auditHandlers.js";
import { clusterHandlers } from "../../src/http/clusterHandlers.js";
import { httpTriggers } from "../../src/http/httpOperation.js";
import type { ServicesSource } from "../../src/http/httpServices.js";
import { isolationCheckHandlers } from "../../src/http/isolationCheckHandlers.js";
import { jobHandlers } from "../../src/http/jobHandlers.js";
import { openApiOperations } from "../../src/http/openApiDocument.js";
import type { OperationHandler } from "../../src/http/operationHandler.js";
import { operationHandlers } from "../../src/http/operationHandlers.js";
import { sandboxFeatureHandlers } from "../../src/http/sandboxFeatureHandlers.js";
import { sandboxPoolHandlers } from "../../src/http/sandboxPoolHandlers.js";
import { serviceHandlers } from "../../src/http/serviceHandlers.js";
import { webhookHandlers } from "../../src/http/webhookHandlers.js";
import type { RunningAzurite } from "../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "./testAzurite.js";
import {
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LOCAL_JWKS_PATH,
  LocalTokenIssuer,
  type MintTokenOptions,
} from "../../src/localhost/localTokenIssuer.js";
import { compileRouteTemplate, type CompiledRoute } from "../../src/localhost/routeTemplate.js";

// @azure/functions is CommonJS whose named exports Node's ESM loader cannot see: take the classes off the default.
const { HttpRequest, HttpResponse, InvocationContext } = functions;

/**
 * The app in the test's own process: the composition root's real services (real adapters: Table Storage on an
 * Azurite, ARM and Kubernetes through the SDKs to whatever ARM_ENDPOINT names) behind the real handler factories
 * and pipeline, called with `@azure/functions`' `HttpRequest`/`InvocationContext` — no host process, no port for
 * the API. Answers are web `Response`s, so a test reads them as it reads `fetch`'s.
 */
export interface InProcessApp {
  readonly services: Services;
  /** The environment the services were built from. */
  readonly env: Readonly<Record<string, string>>;
  readonly dataDir: string;
  /** Calls the API (path relative to `/api/v1`) with a bearer token (none when `""`) and an optional JSON body. */
  call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** Mints a token the app accepts (local issuer in the app's data dir, as `npm start`'s). */
  token(options?: MintTokenOptions): Promise<string>;
  /** Runs a timer function now (`reconcileJobs`, `reconcileOperations`, `deliverWebhooks`); runs never overlap. */
  fireTimer(name: TimerName): Promise<void>;
  /** The JSON log lines the services wrote so far. */
  output(): string;
  /** Stops timers, the JWKS server and (when it started it) Azurite; removes the data dir. Idempotent. */
  stop(): Promise<void>;
}

export type TimerName = "reconcileJobs" | "reconcileOperations" | "deliverWebhooks";

export interface InProcessAppOptions {
  /** Settings over the defaults (simulated mode, local issuer, the sample policy, this app's Azurite). */
  env?: Record<string, string>;
  /** Run the timers on the schedules `functions/` registers (default false: tests fire them by hand). */
  timers?: boolean;
}

/** The handler of every operationId of the document, from the handler factories `functions/` registers. */
function allHandlers(source: ServicesSource): Record<string, OperationHandler<never>> {
  return {
    ...auditHandlers(source),
    ...clusterHandlers(source),
    ...isolationCheckHandlers(source),
    ...jobHandlers(source),
    ...operationHandlers(source),
    ...sandboxFeatureHandlers(source),
    ...sandboxPoolHandlers(source),
    ...serviceHandlers({ services: source, configurationProblems: () => [] }),
    ...webhookHandlers(source),
  };
}

interface Route {
  readonly compiled: CompiledRoute;
  readonly method: string;
  readonly registration: HttpFunctionOptions;
}

/** The HTTP registrations of the app, routed as the Functions host routes them (route prefix `api`). */
function routesOf(source: ServicesSource): Route[] {
  const httpTrigger = httpTriggers(source);
  const handlers = allHandlers(source);
  const routes: Route[] = [];
  for (const operationId of openApiOperations().keys()) {
    const handler = handlers[operationId];
    if (!handler) throw new Error(`no handler factory answers operation ${operationId}`);
    const registration = httpTrigger(operationId, handler);
    routes.push({
      compiled: compileRouteTemplate(`api/${registration.route ?? operationId}`),
      method: (registration.methods ?? ["GET"])[0]!,
      registration,
    });
  }
  // More literal segments first, as in the host.
  return routes.sort((a, b) => b.compiled.specificity - a.compiled.specificity);
}

function errorResponse(status: number, code: string, message: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "x-ms-error-code": code, ...extra },
  });
}

export async function startInProcessApp(options: InProcessAppOptions = {}): Promise<InProcessApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-inprocess-"));
  const given = options.env ?? {};
  let azurite: RunningAzurite | undefined;
  if (given.SANDBOX_TABLES_CONNECTION === undefined) azurite = await startTestAzurite();
  const issuer = await LocalTokenIssuer.open(dataDir);
  const jwks = createServer((req, res) => {
    if (req.url === LOCAL_JWKS_PATH) issuer.serveJwks(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  const env: Record<string, string> = {
    SANDBOX_SIMULATE: "true",
    SANDBOX_DATA_DIR: dataDir,
    AUTH_ISSUER: LOCAL_ISSUER,
    AUTH_AUDIENCE: LOCAL_AUDIENCE,
    AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}${LOCAL_JWKS_PATH}`,
    SANDBOX_POLICY_FILE: simulatedPolicyFile(),
    ...(azurite ? { SANDBOX_TABLES_CONNECTION: azurite.connectionString } : {}),
    ...given,
  };
  let output = "";
  const services = await buildServices({ ...process.env, NODE_ENV: "test", ...env }, (line) => {
    output += `${line}\n`;
  });
  const source: ServicesSource = Object.assign(() => services, { load: async () => {} });
  const routes = routesOf(source);

  const timerHandlers: Record<TimerName, () => Promise<void>> = {
    reconcileJobs: reconcileJobsTimer(
      () => services.jobs,
      () => services.log,
    ),
    reconcileOperations: reconcileOperationsTimer(
      () => services.operations,
      () => services.log,
    ),
    deliverWebhooks: reconcileWebhooksTimer(
      () => services.webhookDispatcher,
      () => services.log,
    ),
  };
  const running = new Map<TimerName, Promise<void>>();
  const fireTimer = async (name: TimerName): Promise<void> => {
    while (running.has(name)) await running.get(name)!.catch(() => undefined);
    const run = timerHandlers[name]();
    running.set(name, run);
    try {
      await run;
    } finally {
      running.delete(name);
    }
  };
  // The schedules functions/ registers (jobs.ts, operations.ts, webhooks.ts).
  const schedules: Record<TimerName, string> = {
    reconcileJobs: "*/10 * * * * *",
    reconcileOperations: "*/10 * * * * *",
    deliverWebhooks: env.WEBHOOK_DELIVERY_SCHEDULE ?? "*/5 * * * * *",
  };
  const crons = options.timers
    ? (Object.keys(schedules) as TimerName[]).map(
        (name) =>
          new Cron(schedules[name], { protect: true }, () => {
            if (!running.has(name))
              void fireTimer(name).catch((error: unknown) =>
                services.log({ level: "error", msg: "timer failed", function: name, error: String(error) }),
              );
          }),
      )
    : [];

  let stopped: Promise<void> | undefined;
  return {
    services,
    env,
    dataDir,
    output: () => output,
    token: (tokenOptions = {}) => issuer.mint(tokenOptions),
    fireTimer,
    async call(method, path, token, body, headers = {}) {
      const url = new URL(`http://127.0.0.1/api/v1${path}`);
      const upper = method.toUpperCase();
      const candidates = routes
        .map((route) => ({ route, params: route.compiled.match(url.pathname) }))
        .filter((c): c is { route: Route; params: Record<string, string> } => c.params !== undefined);
      if (candidates.length === 0) return errorResponse(404, "NotFound", `No route matches ${url.pathname}.`);
      const chosen = candidates.find((c) => c.route.method === upper);
      if (!chosen) {
        const allow = [...new Set(candidates.map((c) => c.route.method))].sort().join(", ");
        return errorResponse(405, "MethodNotAllowed", `Method ${upper} is not allowed on ${url.pathname}.`, { allow });
      }
      const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const request = new HttpRequest({
        method: upper,
        url: url.toString(),
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(text === undefined
            ? {}
            : { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }),
          ...headers,
        },
        params: chosen.params,
        ...(text === undefined ? {} : { body: { bytes: Buffer.from(text) } }),
      });
      const context = new InvocationContext({ functionName: "inProcess", invocationId: "in-process" });
      const result = (await chosen.route.registration.handler(request, context)) as HttpResponseInit | undefined;
      const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
      return new Response(upper === "HEAD" ? null : response.body, {
        status: response.status,
        headers: response.headers,
      });
    },
    stop() {
      stopped ??= (async () => {
        for (const cron of crons) cron.stop();
        await Promise.allSettled([...running.values()]);
        await new Promise<void>((resolve) => jwks.close(() => resolve()));
        await azurite?.stop();
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
