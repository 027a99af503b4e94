/** How 429 and 503 answers are retried. */
export interface RetryOptions {
  /** Retries after the first attempt (default 4). 0 turns retries off. */
  maxRetries?: number;
  /** Upper bound of one wait, ms, whatever `Retry-After` says (default 30 000). */
  maxDelayMs?: number;
  /** Wait when the answer has no `Retry-After`, ms, doubled per retry (default 500). */
  baseDelayMs?: number;
}

const RETRIED = new Set([429, 503]);

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A `fetch` that retries 429 and 503 answers, waiting what `Retry-After` asks
 * (bounded by `maxDelayMs`), at most `maxRetries` times. The request is sent
 * again unchanged, so its `Repeatability-Request-ID` makes the retry safe.
 */
export function retryingFetch(
  inner: (request: Request) => Promise<Response>,
  options: RetryOptions = {},
): (request: Request) => Promise<Response> {
  const maxRetries = options.maxRetries ?? 4;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const baseDelayMs = options.baseDelayMs ?? 500;
  return async (request) => {
    for (let attempt = 0; ; attempt += 1) {
      const response = await inner(attempt < maxRetries ? request.clone() : request);
      if (!RETRIED.has(response.status) || attempt >= maxRetries) return response;
      const wait = Math.min(maxDelayMs, retryAfterMs(response.headers) ?? baseDelayMs * 2 ** attempt);
      await response.body?.cancel();
      await sleep(wait, request.signal);
    }
  };
}
