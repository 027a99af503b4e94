import { isSandboxError } from "../sandboxError.js";
import type { EventOutbox, PendingOutboxEvent } from "../events/eventOutbox.js";
import { secretContext } from "./webhookService.js";
import type { SecretCipher, SendResult, WebhookSender, WebhookStore } from "./webhookPorts.js";
import { subscribesTo, type WebhookDelivery, type WebhookSubscription } from "./webhookSubscription.js";

export interface DispatcherSettings {
  /** How long a delivery is retried before it is dead-lettered, ms. Default 24 h. */
  maxAgeMs: number;
  /** Backoff of the first retry and the cap, ms (exponential, jitter in the upper half). Defaults 5 s and 1 h. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long an instance's claim on a delivery it is sending lasts, ms. Default 60 s. */
  claimMs: number;
  /** Outbox events fanned out and deliveries attempted per pass. Default 200 each. */
  batch: number;
}

export const DEFAULT_DISPATCHER_SETTINGS: DispatcherSettings = Object.freeze({
  maxAgeMs: 24 * 3600_000,
  backoffBaseMs: 5000,
  backoffMaxMs: 3600_000,
  claimMs: 60_000,
  batch: 200,
});

export interface DispatchReport {
  fannedOut: number;
  attempted: number;
  delivered: number;
  failed: number;
  deadLettered: number;
  disabled: number;
}

export interface WebhookDispatcherDependencies {
  store: WebhookStore;
  outbox: EventOutbox;
  sender: WebhookSender;
  cipher: SecretCipher;
  settings?: Partial<DispatcherSettings>;
  now?: () => number;
  random?: () => number;
  log?: (event: Record<string, unknown>) => void;
  /** Told each pass's figures (metrics). */
  observe?: (report: DispatchReport) => void;
}

/** The zero-padded event time + sequence: delivery ids sort by event time within a subscription. */
export function deliveryIdFor(entry: Pick<PendingOutboxEvent, "event" | "sequence">): string {
  const ms = Date.parse(entry.event.time);
  return `${String(Number.isNaN(ms) ? 0 : ms).padStart(15, "0")}${entry.sequence}-${entry.event.id}`;
}

/** Backoff before retry `attempt` (1-based): base·2^(attempt−1), capped, with jitter in its upper half. */
export function retryDelayMs(
  attempt: number,
  settings: Pick<DispatcherSettings, "backoffBaseMs" | "backoffMaxMs">,
  random: () => number,
): number {
  const ceiling = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.min(30, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The webhook timer's work, safe on any number of instances at once:
 * 1. fan-out — each outbox event becomes one delivery row per matching
 *    enabled subscription of the owning team (idempotent: a delivery's id
 *    comes from the event), then leaves the outbox;
 * 2. delivery — pending deliveries are claimed (ETag), signed and sent, in
 *    order per subscription and subject (a later event waits while an
 *    earlier one of the same subject is pending); 2xx delivers, 410 Gone
 *    disables the subscription, anything else retries with exponential
 *    backoff and jitter until 24 h have passed, then dead-letters.
 */
export class WebhookDispatcher {
  readonly #store: WebhookStore;
  readonly #outbox: EventOutbox;
  readonly #sender: WebhookSender;
  readonly #cipher: SecretCipher;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #log: (event: Record<string, unknown>) => void;
  readonly #observe: (report: DispatchReport) => void;
  readonly settings: DispatcherSettings;

  constructor(deps: WebhookDispatcherDependencies) {
    this.#store = deps.store;
    this.#outbox = deps.outbox;
    this.#sender = deps.sender;
    this.#cipher = deps.cipher;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#log = deps.log ?? (() => undefined);
    this.#observe = deps.observe ?? (() => undefined);
    this.settings = { ...DEFAULT_DISPATCHER_SETTINGS, ...deps.settings };
  }

  /** One pass: fan out the outbox, then attempt what is due. */
  async pass(): Promise<DispatchReport> {
    const report: DispatchReport = {
      fannedOut: 0,
      attempted: 0,
      delivered: 0,
      failed: 0,
      deadLettered: 0,
      disabled: 0,
    };
    report.fannedOut = await this.fanOut();
    await this.deliverDue(report);
    this.#observe(report);
    return report;
  }

  /** Moves outbox events to per-subscription deliveries. Returns how many events left the outbox. */
  async fanOut(): Promise<number> {
    const events = await this.#outbox.list(this.settings.batch);
    const subscriptions = new Map<string, Promise<WebhookSubscription[]>>();
    let moved = 0;
    for (const entry of events) {
      let subs = subscriptions.get(entry.team);
      if (!subs) {
        subs = this.#store.listEnabled(entry.team);
        subscriptions.set(entry.team, subs);
      }
      const now = this.#now();
      for (const sub of (await subs).filter((s) => subscribesTo(s, entry.event.type))) {
        await this.#store.addDelivery({
          team: entry.team,
          subscription: sub.name,
          id: deliveryIdFor(entry),
          eventId: entry.event.id,
          eventType: entry.event.type,
          subject: entry.event.subject,
          payload: JSON.stringify(entry.event),
          status: "Pending",
          attempts: 0,
          queuedAt: now,
          nextAttemptAt: now,
          lastAttemptAt: undefined,
          lastStatusCode: undefined,
          lastError: undefined,
          deliveredAt: undefined,
          claimUntil: undefined,
        });
      }
      await this.#outbox.remove(entry);
      moved++;
    }
    return moved;
  }

  async deliverDue(report: DispatchReport): Promise<void> {
    const pending = (await this.#store.listPending(this.settings.batch)).sort((a, b) =>
      `${a.team}/${a.subscription}/${a.id}` < `${b.team}/${b.subscription}/${b.id}` ? -1 : 1,
    );
    const blocked = new Set<string>();
    const subscriptions = new Map<string, WebhookSubscription | undefined>();
    for (const delivery of pending) {
      const key = `${delivery.team}/${delivery.subscription}/${delivery.subject}`;
      if (blocked.has(key)) continue;
      const now = this.#now();
      if (delivery.nextAttemptAt > now || (delivery.claimUntil !== undefined && delivery.claimUntil > now)) {
        blocked.add(key);
        continue;
      }
      const subKey = `${delivery.team}/${delivery.subscription}`;
      if (!subscriptions.has(subKey))
        subscriptions.set(subKey, await this.#store.get(delivery.team, delivery.subscription));
      const sub = subscriptions.get(subKey);
      if (sub === undefined || !sub.enabled) {
        blocked.add(key);
        continue;
      }
      const claimed = await this.#store.updateDelivery({ ...delivery, claimUntil: now + this.settings.claimMs });
      if (!claimed) {
        blocked.add(key);
        continue;
      }
      report.attempted++;
      const result = await this.#attempt(sub, claimed);
      const outcome = await this.#record(sub, claimed, result, report);
      if (outcome === "disabled") subscriptions.set(subKey, { ...sub, enabled: false });
      if (outcome !== "delivered") blocked.add(key);
    }
  }

  async #attempt(sub: WebhookSubscription, delivery: WebhookDelivery): Promise<SendResult> {
    // The sender checks the URL again at send time (DNS answers change), and connects only to the checked addresses.
    const now = this.#now();
    const context = secretContext(sub.team, sub.name);
    const secrets = [this.#cipher.open(sub.secret, context)];
    if (sub.previousSecret !== undefined && (sub.previousSecretExpiresAt ?? 0) > now)
      secrets.push(this.#cipher.open(sub.previousSecret, context));
    return this.#sender.send({
      url: sub.url,
      secrets,
      messageId: delivery.eventId,
      timestamp: new Date(now),
      payload: delivery.payload,
    });
  }

  async #record(
    sub: WebhookSubscription,
    delivery: WebhookDelivery,
    result: SendResult,
    report: DispatchReport,
  ): Promise<"delivered" | "retry" | "deadLettered" | "disabled"> {
    const now = this.#now();
    const attempts = delivery.attempts + 1;
    const base = {
      ...delivery,
      attempts,
      lastAttemptAt: now,
      lastStatusCode: result.statusCode,
      lastError: result.error,
      claimUntil: undefined,
    };
    const fields = {
      team: sub.team,
      webhook: sub.name,
      deliveryId: delivery.id,
      eventType: delivery.eventType,
      attempts,
      statusCode: result.statusCode,
    };
    if (result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300) {
      await this.#store.updateDelivery({ ...base, status: "Delivered", deliveredAt: now, lastError: undefined });
      report.delivered++;
      this.#log({ level: "info", msg: "webhook delivered", ...fields });
      return "delivered";
    }
    report.failed++;
    if (result.statusCode === 410) {
      await this.#store.updateDelivery({
        ...base,
        status: "DeadLettered",
        lastError: "The receiver answered 410 Gone; the subscription was disabled.",
      });
      await this.#disable(sub, `The receiver answered 410 Gone at ${new Date(now).toISOString()}.`);
      report.disabled++;
      report.deadLettered++;
      this.#log({ level: "warn", msg: "webhook disabled: 410 Gone", ...fields });
      return "disabled";
    }
    const next = now + retryDelayMs(attempts, this.settings, this.#random);
    if (next - delivery.queuedAt > this.settings.maxAgeMs) {
      await this.#store.updateDelivery({ ...base, status: "DeadLettered" });
      report.deadLettered++;
      this.#log({ level: "warn", msg: "webhook dead-lettered", ...fields });
      return "deadLettered";
    }
    await this.#store.updateDelivery({ ...base, status: "Pending", nextAttemptAt: next });
    this.#log({ level: "info", msg: "webhook attempt failed", ...fields, nextAttemptAt: new Date(next).toISOString() });
    return "retry";
  }

  async #disable(sub: WebhookSubscription, reason: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const fresh = await this.#store.get(sub.team, sub.name);
      if (!fresh || !fresh.enabled) return;
      try {
        await this.#store.put({ ...fresh, enabled: false, disabledReason: reason, updatedAt: this.#now() });
        return;
      } catch (error) {
        if (!(isSandboxError(error) && error.code === "PreconditionFailed")) throw error;
      }
    }
  }
}
