import { EVENT_TYPES, type EventType } from "../events/cloudEvent.js";
import { SandboxError } from "../sandboxError.js";

/** A webhook subscription as stored (the secret only sealed, see {@link SecretCipher}). */
export interface WebhookSubscription {
  team: string;
  name: string;
  url: string;
  /** Event types delivered; empty = every type. */
  eventTypes: EventType[];
  enabled: boolean;
  /** Why the service disabled it (e.g. the receiver answered 410 Gone). */
  disabledReason: string | undefined;
  /** The current signing secret, sealed. */
  secret: string;
  /** The previous secret, sealed, and until when it still signs (epoch ms) after a rotation. */
  previousSecret: string | undefined;
  previousSecretExpiresAt: number | undefined;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  secretRotatedAt: number;
  /** Store concurrency token. */
  etag?: string;
}

/** The API view: never the secret. */
export interface WebhookView {
  name: string;
  team: string;
  url: string;
  /** Event types delivered; empty = every type. */
  events: EventType[];
  enabled: boolean;
  disabledReason?: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  secretRotatedAt: string;
  /** Set while the previous secret still signs after a rotation. */
  previousSecretExpiresAt?: string;
  links: { self: string; deliveries: string };
}

export function webhookView(sub: WebhookSubscription, now: number): WebhookView {
  const self = `/api/v1/webhooks/${sub.name}`;
  const view: WebhookView = {
    name: sub.name,
    team: sub.team,
    url: sub.url,
    events: [...sub.eventTypes],
    enabled: sub.enabled,
    createdAt: new Date(sub.createdAt).toISOString(),
    createdBy: sub.createdBy,
    updatedAt: new Date(sub.updatedAt).toISOString(),
    secretRotatedAt: new Date(sub.secretRotatedAt).toISOString(),
    links: { self, deliveries: `${self}/deliveries` },
  };
  if (sub.disabledReason !== undefined) view.disabledReason = sub.disabledReason;
  if (sub.previousSecretExpiresAt !== undefined && sub.previousSecretExpiresAt > now) {
    view.previousSecretExpiresAt = new Date(sub.previousSecretExpiresAt).toISOString();
  }
  return view;
}

/** Whether the subscription wants events of `type`. */
export function subscribesTo(sub: WebhookSubscription, type: string): boolean {
  return sub.enabled && (sub.eventTypes.length === 0 || (sub.eventTypes as string[]).includes(type));
}

/** Event type filters as given: exact types, or `…operation.*`-style prefixes expanded here. */
export function resolveEventTypes(filters: readonly string[] | undefined): EventType[] {
  if (filters === undefined || filters.length === 0) return [];
  const out = new Set<EventType>();
  filters.forEach((filter, i) => {
    const matched = filter.endsWith(".*")
      ? EVENT_TYPES.filter((t) => t.startsWith(filter.slice(0, -1)))
      : EVENT_TYPES.filter((t) => t === filter);
    if (matched.length === 0) {
      throw new SandboxError(
        "InvalidRequest",
        `events[${i}] "${filter}" is not an event type. Known types: ${EVENT_TYPES.join(", ")} (or a prefix ending in ".*").`,
        {
          target: `body.events[${i}]`,
        },
      );
    }
    matched.forEach((t) => out.add(t));
  });
  return [...out];
}

/** Delivery states: `Pending` (queued or backing off), `Delivered` (2xx), `DeadLettered` (gave up or disabled). */
export type DeliveryStatus = "Pending" | "Delivered" | "DeadLettered";

/** One event for one subscription, with its attempts (the delivery log). */
export interface WebhookDelivery {
  team: string;
  subscription: string;
  /** `<zero-padded event time ms><sequence>-<event id>`: sorts by event time, unique per subscription. */
  id: string;
  eventId: string;
  eventType: string;
  subject: string;
  /** The CloudEvent JSON as sent (no secrets: resource views only). */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When it was queued (or queued again by a redelivery): the 24 h retry window starts here. */
  queuedAt: number;
  nextAttemptAt: number;
  lastAttemptAt: number | undefined;
  lastStatusCode: number | undefined;
  lastError: string | undefined;
  deliveredAt: number | undefined;
  /** A claim by an instance sending it now (epoch ms); others skip it until then. */
  claimUntil: number | undefined;
  etag?: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  subject: string;
  status: DeliveryStatus;
  attempts: number;
  queuedAt: string;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastStatusCode?: number;
  lastError?: string;
  deliveredAt?: string;
}

export function deliveryView(d: WebhookDelivery): DeliveryView {
  const view: DeliveryView = {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    subject: d.subject,
    status: d.status,
    attempts: d.attempts,
    queuedAt: new Date(d.queuedAt).toISOString(),
  };
  if (d.status === "Pending") view.nextAttemptAt = new Date(d.nextAttemptAt).toISOString();
  if (d.lastAttemptAt !== undefined) view.lastAttemptAt = new Date(d.lastAttemptAt).toISOString();
  if (d.lastStatusCode !== undefined) view.lastStatusCode = d.lastStatusCode;
  if (d.lastError !== undefined) view.lastError = d.lastError;
  if (d.deliveredAt !== undefined) view.deliveredAt = new Date(d.deliveredAt).toISOString();
  return view;
}
