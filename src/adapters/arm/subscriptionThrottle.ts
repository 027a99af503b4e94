import { createHttpHeaders, RestError, type PipelineRequest } from "@azure/core-rest-pipeline";
import { retryAfterMsFrom } from "./armErrors.js";

/**
 * ARM throttles per subscription: a 429's `Retry-After` holds for every request of that subscription, not
 * only for the operation that happened to receive it. Without this gate a second operation (or an API
 * request's preflight) of the same subscription called ARM again before the wait was over — the very
 * behaviour that makes ARM extend the throttling. While a subscription's wait runs, requests to it fail
 * here with the RestError a 429 carrying the remaining wait would give (no ARM call), which the callers
 * already translate to `UpstreamThrottled`. Per process, keyed by ARM host and subscription.
 */
export class SubscriptionThrottle {
  readonly #until = new Map<string, number>();

  #key(url: string): string | undefined {
    const parsed = new URL(url);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(parsed.pathname)?.[1];
    return sub === undefined ? undefined : `${parsed.host}|${sub.toLowerCase()}`;
  }

  /** Wall ms the subscription of `url` must still wait (0 when it may call). */
  remainingMs(url: string, now: number): number {
    const key = this.#key(url);
    const until = key === undefined ? undefined : this.#until.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#until.delete(key!);
      return 0;
    }
    return until - now;
  }

  /** Records a 429's `Retry-After` for the subscription of `url`. */
  observe(url: string, status: number, header: (name: string) => string | undefined, now: number): void {
    if (status !== 429) return;
    const key = this.#key(url);
    const waitMs = retryAfterMsFrom(header);
    if (key === undefined || waitMs === undefined || waitMs <= 0) return;
    this.#until.set(key, Math.max(this.#until.get(key) ?? 0, now + waitMs));
  }
}

/** The error a request that must wait fails with: what the SDK throws for ARM's own 429, without calling ARM. */
export function locallyThrottled(request: PipelineRequest, waitMs: number): RestError {
  const message = `The subscription's requests are throttled by Azure Resource Manager; retry after ${Math.ceil(waitMs)} ms.`;
  const body = { error: { code: "TooManyRequests", message } };
  return new RestError(message, {
    code: "TooManyRequests",
    statusCode: 429,
    request,
    response: {
      request,
      status: 429,
      headers: createHttpHeaders({
        "content-type": "application/json; charset=utf-8",
        "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))),
        "retry-after-ms": String(Math.ceil(waitMs)),
        "x-ms-error-code": "TooManyRequests",
      }),
      bodyAsText: JSON.stringify(body),
    },
  });
}
