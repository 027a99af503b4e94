import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import type { HttpClient, PipelinePolicy, PipelineResponse } from "@azure/core-rest-pipeline";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { FeatureClient } from "@azure/arm-features";
import { ResourceManagementClient } from "@azure/arm-resources";
import { DefaultAzureCredential } from "@azure/identity";
import type { Configuration } from "../../config/configuration.js";
import { createTrustingHttpClient } from "./emulatorTrust.js";
import { retryAfterMsFrom } from "./armErrors.js";
import { locallyThrottled, SubscriptionThrottle } from "./subscriptionThrottle.js";
import { inSpan, SpanKind } from "../../telemetry/tracing.js";
import { serviceMetrics } from "../../telemetry/metrics.js";

/** What the capture policy saw of one ARM response (no bodies except LRO status fields, no secrets). */
export interface CapturedResponse {
  method: string;
  url: string;
  status: number;
  retryAfterMs: number | undefined;
  /** From an `Azure-AsyncOperation` status body: `status`, `percentComplete`, `error`. */
  lroStatus?: { status?: string; percentComplete?: number; error?: { code?: string; message?: string } };
}

interface CallScope {
  correlationId: string;
  responses: CapturedResponse[];
  /** A JSON document to send as the body of the one PUT to `path` instead of what the SDK serialized. */
  rawPut?: { path: string; json: string };
}

const scope = new AsyncLocalStorage<CallScope>();

/**
 * Runs `fn` with `correlationId` sent as `x-ms-correlation-request-id` on every
 * ARM request it makes, and returns the responses seen (for `Retry-After`).
 */
export async function withArmCall<T>(
  correlationId: string,
  fn: () => Promise<T>,
): Promise<{ value: T; responses: CapturedResponse[] }> {
  const store: CallScope = { correlationId, responses: [] };
  const value = await scope.run(store, fn);
  return { value, responses: store.responses };
}

/** Like {@link withArmCall} but also hands the captured responses to `onError` when `fn` throws. */
export async function withArmCallCapturing<T>(
  correlationId: string,
  fn: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; responses: CapturedResponse[] }> {
  const store: CallScope = { correlationId, responses: [] };
  try {
    const value = await scope.run(store, fn);
    return { value, responses: store.responses };
  } catch (error) {
    return { error, responses: store.responses };
  }
}

/**
 * Within the current call scope ({@link withArmCallCapturing}), makes the
 * next PUT to `path` send `document` as its body, byte for byte what
 * `JSON.stringify` gives, instead of the SDK model's serialization. The SDK
 * still does everything else (auth, LRO headers, the poller and its state).
 */
export function sendRawPutBody(path: string, document: unknown): void {
  const current = scope.getStore();
  if (!current) throw new Error("sendRawPutBody must run inside withArmCallCapturing");
  current.rawPut = { path, json: JSON.stringify(document) };
}

const subscriptionThrottle = new SubscriptionThrottle();

const capturePolicy: PipelinePolicy = {
  name: "sandboxArmCallScope",
  async sendRequest(request, next) {
    const current = scope.getStore();
    if (current) request.headers.set("x-ms-correlation-request-id", current.correlationId);
    if (
      current?.rawPut &&
      request.method === "PUT" &&
      new URL(request.url).pathname.toLowerCase() === current.rawPut.path.toLowerCase()
    ) {
      request.body = current.rawPut.json;
      request.headers.set("content-type", "application/json");
      current.rawPut = undefined;
    }
    const path = new URL(request.url).pathname;
    const response = await inSpan(
      `ARM ${request.method}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "http.request.method": request.method,
          "url.path": path,
          "request.id": current?.correlationId ?? "",
        },
      },
      async (span) => {
        const waitMs = subscriptionThrottle.remainingMs(request.url, Date.now());
        if (waitMs > 0) {
          span.setAttribute("http.response.status_code", 429);
          throw locallyThrottled(request, waitMs);
        }
        let res: PipelineResponse;
        try {
          res = await next(request);
        } catch (error) {
          // Inner policies may already have turned the answer into a RestError.
          const answered = (error as { response?: PipelineResponse }).response;
          if (answered)
            subscriptionThrottle.observe(request.url, answered.status, (n) => answered.headers.get(n), Date.now());
          throw error;
        }
        subscriptionThrottle.observe(request.url, res.status, (n) => res.headers.get(n) ?? undefined, Date.now());
        span.setAttribute("http.response.status_code", res.status);
        serviceMetrics.armCall(request.method, res.status);
        return res;
      },
    );
    if (current) {
      const entry: CapturedResponse = {
        method: request.method,
        url: request.url,
        status: response.status,
        retryAfterMs: retryAfterMsFrom((n) => response.headers.get(n) ?? undefined),
      };
      if (/\/operations\/[^/?]+(\?|$)/i.test(request.url) && response.bodyAsText) {
        try {
          const body = JSON.parse(response.bodyAsText) as {
            status?: string;
            percentComplete?: number;
            error?: { code?: string; message?: string };
          };
          entry.lroStatus = {
            ...(body.status ? { status: body.status } : {}),
            ...(typeof body.percentComplete === "number" ? { percentComplete: body.percentComplete } : {}),
            ...(body.error ? { error: body.error } : {}),
          };
        } catch {
          // not JSON: nothing to learn
        }
      }
      current.responses.push(entry);
    }
    return response;
  },
};

/** Settings the ARM client factory needs (a subset of {@link Configuration}). */
export type ArmClientSettings = Pick<
  Configuration,
  "armEndpoint" | "simulate" | "simulatedCaCertPath" | "azureAuthorityHost"
>;

/** A static token for the emulators (simulated mode only: they accept any bearer token). */
const simulatedCredential: TokenCredential = {
  getToken: async () => ({ token: "simulated-arm-token", expiresOnTimestamp: Date.now() + 3600_000 }),
};

/**
 * Builds and caches the Azure SDK clients: `endpoint` = ARM_ENDPOINT,
 * credential = a static token in simulated mode, else
 * `DefaultAzureCredential` (AZURE_AUTHORITY_HOST); an HTTP client trusting
 * exactly the emulator certificate when SANDBOX_SIMULATED_CA_CERT is set.
 * The SDK's own retries are off: the operations engine retries durably and
 * honours `Retry-After` across ticks. Every request carries the call scope's
 * correlation id ({@link withArmCall}).
 */
export class ArmClientFactory {
  readonly #credential: TokenCredential;
  readonly #httpClient: HttpClient | undefined;
  readonly #containerService = new Map<string, ContainerServiceClient>();
  readonly #features = new Map<string, FeatureClient>();
  readonly #resources = new Map<string, ResourceManagementClient>();

  constructor(
    readonly settings: ArmClientSettings,
    options: { credential?: TokenCredential; httpClient?: HttpClient } = {},
  ) {
    this.#credential =
      options.credential ??
      (settings.simulate
        ? simulatedCredential
        : new DefaultAzureCredential(
            settings.azureAuthorityHost ? { authorityHost: settings.azureAuthorityHost } : {},
          ));
    this.#httpClient =
      options.httpClient ??
      (settings.simulatedCaCertPath
        ? createTrustingHttpClient(readFileSync(settings.simulatedCaCertPath, "utf8"))
        : undefined);
  }

  /** The Entra scope of ARM_ENDPOINT (`https://management.usgovcloudapi.net/.default` in US Gov): every ARM client uses it. */
  get armScope(): string {
    return `${this.settings.armEndpoint.replace(/\/+$/, "")}/.default`;
  }

  /** The HTTP client trusting the simulated CA (SANDBOX_SIMULATED_CA_CERT), when one is configured. */
  get simulatedHttpClient(): HttpClient | undefined {
    return this.settings.simulatedCaCertPath ? this.#httpClient : undefined;
  }

  #common(): {
    endpoint: string;
    httpClient?: HttpClient;
    retryOptions: { maxRetries: number };
    additionalPolicies: { policy: PipelinePolicy; position: "perCall" }[];
  } {
    return {
      // Without a trailing slash: Features and Resources derive their scope as `${endpoint}/.default`.
      endpoint: this.settings.armEndpoint.replace(/\/+$/, ""),
      ...(this.#httpClient ? { httpClient: this.#httpClient } : {}),
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [{ policy: capturePolicy, position: "perCall" }],
    };
  }

  /** The AKS client of a subscription at an api-version (see the flavour module). */
  containerService(subscriptionId: string, apiVersion: string): ContainerServiceClient {
    const key = `${subscriptionId.toLowerCase()}|${apiVersion}`;
    let client = this.#containerService.get(key);
    if (!client) {
      // The AKS client's default scope is the public cloud's; sovereign clouds need ARM_ENDPOINT's.
      client = new ContainerServiceClient(this.#credential, subscriptionId, {
        ...this.#common(),
        apiVersion,
        credentials: { scopes: [this.armScope] },
      });
      this.#containerService.set(key, client);
    }
    return client;
  }

  /** Microsoft.Features client of a subscription. */
  features(subscriptionId: string): FeatureClient {
    let client = this.#features.get(subscriptionId.toLowerCase());
    if (!client) {
      client = new FeatureClient(this.#credential, subscriptionId, this.#common());
      this.#features.set(subscriptionId.toLowerCase(), client);
    }
    return client;
  }

  /** Microsoft.Resources client of a subscription (providers, resource groups). */
  resources(subscriptionId: string): ResourceManagementClient {
    let client = this.#resources.get(subscriptionId.toLowerCase());
    if (!client) {
      client = new ResourceManagementClient(this.#credential, subscriptionId, this.#common());
      this.#resources.set(subscriptionId.toLowerCase(), client);
    }
    return client;
  }
}
