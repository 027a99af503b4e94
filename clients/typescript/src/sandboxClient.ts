/**
 * The typed client: `openapi-fetch` over the generated types, plus what every
 * caller would otherwise write by hand — bearer tokens, automatic
 * `Repeatability-Request-ID`/`Repeatability-First-Sent` on POST/PUT/DELETE,
 * bounded 429/503 retries honouring `Retry-After`, operation polling, paging
 * over `continuationToken` and live job logs.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/api.js";
import { SandboxApiError } from "./sandboxApiError.js";
import { retryAfterMs, retryingFetch, sleep, type RetryOptions } from "./retryingFetch.js";
import { serverSentEvents } from "./serverSentEvents.js";

export type Schemas = components["schemas"];
export type Operation = Schemas["Operation"];
export type Job = Schemas["Job"];

/** Anything that gives a bearer token: a `TokenCredential` (`@azure/identity`), a function, or a fixed token. */
export type TokenProvider = string | (() => string | Promise<string>) | TokenCredentialLike;

/** The part of `@azure/core-auth`'s `TokenCredential` the client uses. */
export interface TokenCredentialLike {
  getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }): Promise<{ token: string } | null>;
}

export interface SandboxClientOptions {
  /** The API root: `https://host/api/v1` or `https://host/api`. */
  endpoint: string;
  token?: TokenProvider;
  /** Scopes asked of a `TokenCredential` (e.g. `api://<app-id>/.default`). */
  scopes?: string | string[];
  retry?: RetryOptions;
  /** The transport (default: global `fetch`). */
  fetch?: (request: Request) => Promise<Response>;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called with every poll's operation (status, percentComplete, steps). */
  onProgress?: (operation: Operation) => void;
  /** Poll interval when the server sends no `Retry-After`, ms (default 2000). */
  pollIntervalMs?: number;
  /** Upper bound of one wait, ms (default 60 000). */
  maxPollIntervalMs?: number;
  /** Throw a {@link SandboxApiError} when the operation ends Failed or Canceled (default true). */
  throwOnFailure?: boolean;
}

/** What `followJobLog` yields: one log line, then the job once it ended. */
export type JobLogEvent = { type: "line"; id: number; text: string } | { type: "end"; job: Job };

export interface JobRef {
  subscriptionId: string;
  resourceGroup: string;
  clusterName: string;
  jobName: string;
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

const TERMINAL = new Set(["Succeeded", "Failed", "Canceled"]);
const MUTATING = new Set(["POST", "PUT", "DELETE", "PATCH"]);

function isCredential(token: TokenProvider): token is TokenCredentialLike {
  return typeof token === "object" && typeof token.getToken === "function";
}

/** The data of an answer, or a {@link SandboxApiError} for an error answer or a failed transport. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (error) {
    if (error instanceof SandboxApiError || (error as Error | undefined)?.name === "AbortError") throw error;
    throw new SandboxApiError({
      status: 0,
      code: "ConnectionFailed",
      message: `The API could not be reached: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (result.error !== undefined || !result.response.ok)
    throw SandboxApiError.fromResponse(result.response, result.error);
  return result.data as T;
}

export class SandboxClient {
  /** The typed `openapi-fetch` client: `api.GET("/v1/whoami")`, … (paths as in the OpenAPI document). */
  readonly api: Client<paths>;

  constructor(options: SandboxClientOptions) {
    const baseUrl = options.endpoint.replace(/\/+$/, "").replace(/\/v1$/, "");
    const token = options.token;
    const scopes = options.scopes ?? [];
    const transport = options.fetch ?? ((request: Request) => fetch(request));
    this.api = createClient<paths>({ baseUrl, fetch: retryingFetch(transport, options.retry) });
    this.api.use({
      async onRequest({ request }) {
        if (token !== undefined) {
          const value =
            typeof token === "string"
              ? token
              : isCredential(token)
                ? (await token.getToken(scopes, { abortSignal: request.signal }))?.token
                : await token();
          if (!value)
            throw new SandboxApiError({
              status: 0,
              code: "Unauthorized",
              message: "The token provider returned no token.",
            });
          request.headers.set("authorization", `Bearer ${value}`);
        }
        if (!request.headers.has("x-ms-client-request-id"))
          request.headers.set("x-ms-client-request-id", crypto.randomUUID());
        // Set once per call, before any retry: a retry is then recognised and replayed, never done twice.
        if (MUTATING.has(request.method) && !request.headers.has("repeatability-request-id")) {
          request.headers.set("repeatability-request-id", crypto.randomUUID());
          request.headers.set("repeatability-first-sent", new Date().toUTCString());
        }
        return request;
      },
    });
  }

  /**
   * Polls an operation (its id, or an `Operation-Location`) until it ends,
   * waiting what `Retry-After` says between polls. Resolves with the final
   * operation; a Failed or Canceled one throws a {@link SandboxApiError}
   * carrying its error code and the operation (unless `throwOnFailure: false`).
   */
  async waitForOperation(idOrLocation: string, options: WaitOptions = {}): Promise<Operation> {
    const operationId = idOrLocation.split("?")[0]!.split("/").filter(Boolean).pop() ?? idOrLocation;
    const maxWait = options.maxPollIntervalMs ?? 60_000;
    for (;;) {
      options.signal?.throwIfAborted();
      const result = await this.api.GET("/v1/operations/{operationId}", {
        params: { path: { operationId } },
        signal: options.signal ?? null,
      });
      const operation = await unwrap(Promise.resolve(result));
      options.onProgress?.(operation);
      if (TERMINAL.has(operation.status ?? "")) {
        if (operation.status !== "Succeeded" && options.throwOnFailure !== false) {
          throw new SandboxApiError({
            status: 200,
            code: operation.error?.code ?? (operation.status === "Canceled" ? "OperationCanceled" : "OperationFailed"),
            message: operation.error?.message ?? `Operation ${operation.id ?? operationId} ended ${operation.status}.`,
            requestId: result.response.headers.get("x-ms-request-id") ?? undefined,
            operation,
          });
        }
        return operation;
      }
      await sleep(
        Math.min(maxWait, retryAfterMs(result.response.headers) ?? options.pollIntervalMs ?? 2000),
        options.signal,
      );
    }
  }

  /**
   * Every item of a paged list, page after page (`nextLink`'s
   * `continuationToken`), fetched as the iteration goes.
   * `fetchPage` gets `undefined` first, then each next token.
   */
  async *pages<T>(
    fetchPage: (continuationToken: string | undefined) => Promise<FetchResult<{ value?: T[]; nextLink?: string }>>,
  ): AsyncGenerator<T, void, undefined> {
    let token: string | undefined;
    do {
      const page = await unwrap(fetchPage(token));
      for (const item of page.value ?? []) yield item;
      token = page.nextLink
        ? (new URL(page.nextLink, "http://localhost").searchParams.get("continuationToken") ?? undefined)
        : undefined;
    } while (token !== undefined);
  }

  /** The caller's team's jobs (Admin: all), every page. */
  listJobs(
    query: NonNullable<paths["/v1/jobs"]["get"]["parameters"]["query"]> = {},
  ): AsyncGenerator<Job, void, undefined> {
    return this.pages((continuationToken) =>
      this.api.GET("/v1/jobs", {
        params: { query: { ...query, ...(continuationToken ? { continuationToken } : {}) } },
      }),
    );
  }

  /** The caller's team's operations (Admin: all), every page. */
  listOperations(
    query: NonNullable<paths["/v1/operations"]["get"]["parameters"]["query"]> = {},
  ): AsyncGenerator<Operation, void, undefined> {
    return this.pages((continuationToken) =>
      this.api.GET("/v1/operations", {
        params: { query: { ...query, ...(continuationToken ? { continuationToken } : {}) } },
      }),
    );
  }

  /**
   * A job's log as it is written (Server-Sent Events), one line at a time,
   * then the job once it ended. A dropped connection is resumed where it
   * stopped (`Last-Event-ID`), at most `maxReconnects` times in a row.
   */
  async *followJobLog(
    job: JobRef,
    options: { signal?: AbortSignal; lastEventId?: number; maxReconnects?: number; team?: string } = {},
  ): AsyncGenerator<JobLogEvent, void, undefined> {
    let lastId = options.lastEventId ?? 0;
    let failures = 0;
    for (;;) {
      const result = await this.api.GET(
        "/v1/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/clusters/{clusterName}/jobs/{jobName}/logs",
        {
          params: {
            path: job,
            query: { follow: true, ...(options.team !== undefined ? { team: options.team } : {}) },
            header: lastId > 0 ? { "Last-Event-ID": String(lastId) } : {},
          },
          headers: { accept: "text/event-stream" },
          parseAs: "stream",
          signal: options.signal ?? null,
        },
      );
      if (!result.response.ok || !result.data) {
        const body = await result.response.json().catch(() => undefined);
        throw SandboxApiError.fromResponse(result.response, body);
      }
      try {
        for await (const event of serverSentEvents(result.data as ReadableStream<Uint8Array>)) {
          failures = 0;
          if (event.event === "log") {
            lastId = Number(event.id ?? lastId + 1);
            yield { type: "line", id: lastId, text: event.data };
          } else if (event.event === "end") {
            yield { type: "end", job: JSON.parse(event.data) as Job };
            return;
          } else if (event.event === "error") {
            throw SandboxApiError.fromResponse(result.response, JSON.parse(event.data));
          }
        }
      } catch (error) {
        if (error instanceof SandboxApiError || options.signal?.aborted) throw error;
      }
      // The stream ended without `end`: the connection dropped. Resume after the last line.
      failures += 1;
      if (failures > (options.maxReconnects ?? 3)) {
        throw new SandboxApiError({ status: 0, code: "ConnectionFailed", message: "The log stream kept dropping." });
      }
      await sleep(Math.min(10_000, 500 * 2 ** failures), options.signal);
    }
  }
}

/** A client for the API at `endpoint` (see {@link SandboxClientOptions}). */
export function createSandboxClient(options: SandboxClientOptions): SandboxClient {
  return new SandboxClient(options);
}
