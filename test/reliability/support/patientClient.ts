import { randomUUID } from "node:crypto";

/** One answer the API gave, as a client saw it. */
export interface SeenAnswer {
  method: string;
  path: string;
  status: number;
  retryAfter: string | null;
  code: string | null;
}

/**
 * A client that behaves like the Azure SDKs: it retries 429 and 503 (and
 * connection failures) after the `Retry-After` the answer gave, with the same
 * `Repeatability-Request-ID` on every try of one write so a retry can never
 * do the work twice. Every answer is kept for the test to judge (`seen`).
 */
export class PatientClient {
  readonly seen: SeenAnswer[] = [];

  constructor(
    private readonly baseUrl: () => string,
    private readonly options: { maxTries?: number; maxWaitMs?: number } = {},
  ) {}

  async call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; text: string }> {
    const repeatability: Record<string, string> =
      method === "GET"
        ? {}
        : { "Repeatability-Request-ID": randomUUID(), "Repeatability-First-Sent": new Date().toUTCString() };
    const maxTries = this.options.maxTries ?? 60;
    let last = "";
    for (let attempt = 1; attempt <= maxTries; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.baseUrl()}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...repeatability,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        // The host itself is down (restarting): try again shortly.
        last = String((error as Error).cause ?? error);
        await sleep(250);
        continue;
      }
      const text = await res.text();
      const retryAfter = res.headers.get("retry-after");
      this.seen.push({ method, path, status: res.status, retryAfter, code: res.headers.get("x-ms-error-code") });
      // A 409 with `Repeatability-Result: accepted` and Retry-After means "your first try of this very
      // request is still in flight" (perhaps on a host that died): waiting and retrying is the answer.
      const firstStillRunning =
        res.status === 409 && res.headers.get("repeatability-result") === "accepted" && retryAfter !== null;
      if (res.status !== 429 && res.status !== 503 && !firstStillRunning)
        return { status: res.status, body: parse(text), text };
      last = `${res.status} ${text.slice(0, 200)}`;
      const seconds = Number(retryAfter ?? "1");
      await sleep(
        Math.min(this.options.maxWaitMs ?? 5000, Math.max(100, (Number.isFinite(seconds) ? seconds : 1) * 1000)),
      );
    }
    throw new Error(`${method} ${path}: no answer but retries after ${maxTries} tries (last: ${last})`);
  }

  /** Answers that a client must never see: 500s, 503s without Retry-After, 5xx without an error code. */
  misbehaviour(): SeenAnswer[] {
    return this.seen.filter(
      (a) =>
        a.status === 500 ||
        (a.status >= 500 && a.code === null) ||
        ((a.status === 503 || a.status === 429) && a.retryAfter === null),
    );
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
