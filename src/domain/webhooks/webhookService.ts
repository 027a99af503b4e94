import { randomBytes } from "node:crypto";
import type { Principal } from "../identity/principal.js";
import { SandboxError } from "../sandboxError.js";
import type { EventType } from "../events/cloudEvent.js";
import type { SecretCipher, WebhookStore, WebhookTargetGuard } from "./webhookPorts.js";
import {
  deliveryView,
  resolveEventTypes,
  webhookView,
  type DeliveryView,
  type WebhookDelivery,
  type WebhookSubscription,
  type WebhookView,
} from "./webhookSubscription.js";

/** Subscription names: DNS-1123 label style, 1–63 characters. */
export const WEBHOOK_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** At most this many subscriptions per team (each costs a fan-out write per event). */
export const MAX_WEBHOOKS_PER_TEAM = 25;
/** Default grace period of the previous secret after a rotation: 24 h, as Standard Webhooks suggests for key rollover. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The sealing context of a subscription's secret: a sealed secret cannot be moved to another subscription. */
export function secretContext(team: string, name: string): string {
  return `webhook:${team}/${name}`;
}

export interface WebhookInput {
  url: string;
  events?: string[];
  enabled?: boolean;
}

export interface WebhookServiceDependencies {
  store: WebhookStore;
  cipher: SecretCipher;
  guard: WebhookTargetGuard;
  now?: () => number;
}

function teamOf(principal: Principal): string {
  if (principal.team === undefined) {
    throw new SandboxError(
      "Forbidden",
      "Webhooks belong to a team, and the token names none (team claim, app or group mapping).",
    );
  }
  return principal.team;
}

/**
 * Webhook subscription use cases (the caller's team's subscriptions): create
 * or update (secret generated here and returned once), read, list, delete,
 * rotate the secret (the old one keeps signing for a grace period), the
 * delivery log and redelivery.
 */
export class WebhookService {
  readonly #store: WebhookStore;
  readonly #cipher: SecretCipher;
  readonly #guard: WebhookTargetGuard;
  readonly #now: () => number;

  constructor(deps: WebhookServiceDependencies) {
    this.#store = deps.store;
    this.#cipher = deps.cipher;
    this.#guard = deps.guard;
    this.#now = deps.now ?? Date.now;
  }

  async #require(team: string, name: string): Promise<WebhookSubscription> {
    const sub = await this.#store.get(team, name);
    if (!sub)
      throw new SandboxError("NotFound", `Webhook "${name}" does not exist in team "${team}".`, {
        target: "path.webhookName",
      });
    return sub;
  }

  /**
   * PUT: creates (201, with the secret — the only time it is shown) or
   * updates URL, filters and enabled flag (200, no secret). Re-enabling a
   * subscription clears why it was disabled.
   */
  async put(
    principal: Principal,
    name: string,
    input: WebhookInput,
  ): Promise<{ created: boolean; view: WebhookView; secret?: string }> {
    const team = teamOf(principal);
    if (!WEBHOOK_NAME_PATTERN.test(name)) {
      throw new SandboxError(
        "InvalidRequest",
        `Webhook name "${name}" must be 1–63 lower-case letters, digits and '-', starting and ending alphanumeric.`,
        { target: "path.webhookName" },
      );
    }
    const eventTypes: EventType[] = resolveEventTypes(input.events);
    await this.#guard.check(input.url);
    const now = this.#now();
    const existing = await this.#store.get(team, name);
    if (existing) {
      const enabled = input.enabled ?? existing.enabled;
      const updated: WebhookSubscription = {
        ...existing,
        url: input.url,
        eventTypes,
        enabled,
        disabledReason: enabled
          ? undefined
          : (existing.disabledReason ?? (input.enabled === false ? "Disabled by a caller." : undefined)),
        updatedAt: now,
      };
      const stored = await this.#store.put(updated);
      return { created: false, view: webhookView(stored, now) };
    }
    if ((await this.#store.list(team)).length >= MAX_WEBHOOKS_PER_TEAM) {
      throw new SandboxError(
        "QuotaExceeded",
        `Team "${team}" already has ${MAX_WEBHOOKS_PER_TEAM} webhooks, the most a team may have. Delete one first.`,
      );
    }
    const secret = newWebhookSecret();
    const sub: WebhookSubscription = {
      team,
      name,
      url: input.url,
      eventTypes,
      enabled: input.enabled ?? true,
      disabledReason: input.enabled === false ? "Disabled by a caller." : undefined,
      secret: this.#cipher.seal(secret, secretContext(team, name)),
      previousSecret: undefined,
      previousSecretExpiresAt: undefined,
      createdAt: now,
      createdBy: principal.name,
      updatedAt: now,
      secretRotatedAt: now,
    };
    const stored = await this.#store.put(sub);
    return { created: true, view: webhookView(stored, now), secret };
  }

  async get(principal: Principal, name: string): Promise<WebhookView> {
    return webhookView(await this.#require(teamOf(principal), name), this.#now());
  }

  async list(principal: Principal): Promise<WebhookView[]> {
    const now = this.#now();
    return (await this.#store.list(teamOf(principal))).map((s) => webhookView(s, now));
  }

  async delete(principal: Principal, name: string): Promise<boolean> {
    const team = teamOf(principal);
    const existing = await this.#store.get(team, name);
    if (!existing) return false;
    await this.#store.delete(team, name);
    return true;
  }

  /** A new secret (returned once); the current one keeps signing until `graceSeconds` from now (0 = at once). */
  async rotateSecret(
    principal: Principal,
    name: string,
    graceSeconds = DEFAULT_ROTATION_GRACE_SECONDS,
  ): Promise<{ view: WebhookView; secret: string }> {
    const team = teamOf(principal);
    const sub = await this.#require(team, name);
    const now = this.#now();
    const secret = newWebhookSecret();
    const rotated: WebhookSubscription = {
      ...sub,
      secret: this.#cipher.seal(secret, secretContext(team, name)),
      previousSecret: graceSeconds > 0 ? sub.secret : undefined,
      previousSecretExpiresAt: graceSeconds > 0 ? now + graceSeconds * 1000 : undefined,
      secretRotatedAt: now,
      updatedAt: now,
    };
    const stored = await this.#store.put(rotated);
    return { view: webhookView(stored, now), secret };
  }

  async listDeliveries(principal: Principal, name: string, top: number): Promise<DeliveryView[]> {
    const team = teamOf(principal);
    await this.#require(team, name);
    return (await this.#store.listDeliveries(team, name, top)).map(deliveryView);
  }

  /** Queues a delivery again now (any status), keeping its log; the next dispatcher pass sends it. */
  async redeliver(principal: Principal, name: string, deliveryId: string): Promise<DeliveryView> {
    const team = teamOf(principal);
    await this.#require(team, name);
    for (let attempt = 0; attempt < 3; attempt++) {
      const delivery = await this.#store.getDelivery(team, name, deliveryId);
      if (!delivery)
        throw new SandboxError("NotFound", `Delivery "${deliveryId}" of webhook "${name}" does not exist.`, {
          target: "path.deliveryId",
        });
      const queued: WebhookDelivery = {
        ...delivery,
        status: "Pending",
        nextAttemptAt: this.#now(),
        queuedAt: this.#now(),
        claimUntil: undefined,
      };
      const stored = await this.#store.updateDelivery(queued);
      if (stored) return deliveryView(stored);
    }
    throw new SandboxError(
      "PreconditionFailed",
      `Delivery "${deliveryId}" changed while it was being queued again; retry.`,
    );
  }
}
