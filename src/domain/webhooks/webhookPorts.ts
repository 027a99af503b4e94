import type { WebhookDelivery, WebhookSubscription } from "./webhookSubscription.js";

/**
 * Port: webhook subscriptions and their delivery log (per team). Writes are
 * conditional on ETags; a lost race throws `SandboxError("PreconditionFailed")`.
 */
export interface WebhookStore {
  get(team: string, name: string): Promise<WebhookSubscription | undefined>;
  list(team: string): Promise<WebhookSubscription[]>;
  /** Every enabled subscription of the team (the dispatcher's fan-out). */
  listEnabled(team: string): Promise<WebhookSubscription[]>;
  /** Creates, or replaces when `sub.etag` is set (ETag-checked). Returns the stored row. */
  put(sub: WebhookSubscription): Promise<WebhookSubscription>;
  /** Deletes the subscription and its delivery log. Idempotent. */
  delete(team: string, name: string): Promise<void>;
  /** Creates a delivery unless one for the same subscription and id exists (then a no-op). */
  addDelivery(delivery: WebhookDelivery): Promise<void>;
  getDelivery(team: string, subscription: string, id: string): Promise<WebhookDelivery | undefined>;
  /** The subscription's deliveries, newest first, at most `top`. */
  listDeliveries(team: string, subscription: string, top: number): Promise<WebhookDelivery[]>;
  /** Pending deliveries of every team, oldest first, at most `limit`. */
  listPending(limit: number): Promise<WebhookDelivery[]>;
  /** Replaces the delivery if its ETag still matches; undefined on a lost race. */
  updateDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery | undefined>;
}

/**
 * Port: protects signing secrets at rest. Standard Webhooks secrets are
 * symmetric, so signing needs the secret itself: it is stored sealed
 * (authenticated encryption bound to `context`), never in clear.
 */
export interface SecretCipher {
  seal(secret: string, context: string): string;
  /** @throws when the sealed text was changed or sealed for another context. */
  open(sealed: string, context: string): string;
}

/**
 * Port: decides whether a URL may be called (SSRF guard).
 * @throws SandboxError `WebhookTargetNotAllowed` naming why.
 */
export interface WebhookTargetGuard {
  check(url: string): Promise<void>;
}

/** What one delivery attempt gave. `statusCode` undefined = no HTTP answer (network error, timeout, refused target). */
export interface SendResult {
  statusCode: number | undefined;
  error: string | undefined;
}

/**
 * Port: one signed POST of a payload (Standard Webhooks headers: signed with
 * every secret given, so receivers holding either secret verify during a
 * rotation). Never follows redirects; bounded time and response size.
 */
export interface WebhookSender {
  send(request: {
    url: string;
    secrets: readonly string[];
    messageId: string;
    timestamp: Date;
    payload: string;
  }): Promise<SendResult>;
}
