import { odata, type TableClient, type TableEntityResult } from "@azure/data-tables";
import type { EventType } from "../../domain/events/cloudEvent.js";
import { SandboxError } from "../../domain/sandboxError.js";
import type { WebhookStore } from "../../domain/webhooks/webhookPorts.js";
import type {
  DeliveryStatus,
  WebhookDelivery,
  WebhookSubscription,
} from "../../domain/webhooks/webhookSubscription.js";
import { tableCreator } from "./tableClients.js";
import { rowWriteError, statusOf } from "./tableErrors.js";

/** Default table of webhook subscriptions and deliveries. */
export const WEBHOOKS_TABLE = "webhooks";

const SUB = "s|";
const DELIVERY = "d|";

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : undefined;
/** Fixed-width epoch ms, so that string comparison in filters is time comparison. */
const pad = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(15, "0");

function subRow(sub: WebhookSubscription): Row {
  const row: Row = {
    partitionKey: sub.team,
    rowKey: SUB + sub.name,
    name: sub.name,
    url: sub.url,
    eventTypes: JSON.stringify(sub.eventTypes),
    enabled: sub.enabled,
    // Sealed (AES-256-GCM, key outside the table): the row never holds a secret in clear.
    secretSealed: sub.secret,
    createdAt: sub.createdAt,
    createdBy: sub.createdBy,
    updatedAt: sub.updatedAt,
    secretRotatedAt: sub.secretRotatedAt,
  };
  if (sub.disabledReason !== undefined) row.disabledReason = sub.disabledReason;
  if (sub.previousSecret !== undefined) row.previousSecretSealed = sub.previousSecret;
  if (sub.previousSecretExpiresAt !== undefined) row.previousSecretExpiresAt = sub.previousSecretExpiresAt;
  return row;
}

function subFromRow(row: TableEntityResult<Record<string, unknown>>): WebhookSubscription {
  return {
    team: String(row.partitionKey),
    name: String(row.name),
    url: String(row.url),
    eventTypes: JSON.parse(str(row.eventTypes) ?? "[]") as EventType[],
    enabled: row.enabled === true,
    disabledReason: str(row.disabledReason),
    secret: String(row.secretSealed),
    previousSecret: str(row.previousSecretSealed),
    previousSecretExpiresAt: num(row.previousSecretExpiresAt),
    createdAt: num(row.createdAt) ?? 0,
    createdBy: str(row.createdBy) ?? "",
    updatedAt: num(row.updatedAt) ?? 0,
    secretRotatedAt: num(row.secretRotatedAt) ?? 0,
    etag: row.etag,
  };
}

const deliveryKey = (subscription: string, id: string): string => `${DELIVERY}${subscription}|${id}`;

function deliveryRow(d: WebhookDelivery): Row {
  const row: Row = {
    partitionKey: d.team,
    rowKey: deliveryKey(d.subscription, d.id),
    subscription: d.subscription,
    deliveryId: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    subject: d.subject,
    payload: d.payload,
    status: d.status,
    attempts: d.attempts,
    queuedAt: d.queuedAt,
    nextAttemptAt: pad(d.nextAttemptAt),
  };
  const optional: Record<string, unknown> = {
    lastAttemptAt: d.lastAttemptAt,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError?.slice(0, 1000),
    deliveredAt: d.deliveredAt,
    claimUntil: d.claimUntil,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) row[k] = v;
  return row;
}

function deliveryFromRow(row: TableEntityResult<Record<string, unknown>>): WebhookDelivery {
  return {
    team: String(row.partitionKey),
    subscription: String(row.subscription),
    id: String(row.deliveryId),
    eventId: String(row.eventId),
    eventType: String(row.eventType),
    subject: String(row.subject),
    payload: String(row.payload),
    status: String(row.status) as DeliveryStatus,
    attempts: num(row.attempts) ?? 0,
    queuedAt: num(row.queuedAt) ?? 0,
    nextAttemptAt: num(row.nextAttemptAt) ?? 0,
    lastAttemptAt: num(row.lastAttemptAt),
    lastStatusCode: num(row.lastStatusCode),
    lastError: str(row.lastError),
    deliveredAt: num(row.deliveredAt),
    claimUntil: num(row.claimUntil),
    etag: row.etag,
  };
}

/**
 * {@link WebhookStore} on one Azure Table: partition = team; subscription
 * rows `s|<name>` (secret sealed), delivery rows `d|<name>|<delivery id>`
 * (ids sort by event time). Writes are ETag-conditional.
 */
export class WebhookTable implements WebhookStore {
  readonly #client: TableClient;
  readonly #ensureTable: () => Promise<void>;

  constructor(client: TableClient) {
    this.#client = client;
    this.#ensureTable = tableCreator(client, (error) => rowWriteError(error, "creating the webhooks table"));
  }

  async #query(
    filter: string,
    what: string,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<TableEntityResult<Record<string, unknown>>[]> {
    await this.#ensureTable();
    const out: TableEntityResult<Record<string, unknown>>[] = [];
    try {
      for await (const row of this.#client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        out.push(row);
        if (out.length >= limit) break;
      }
    } catch (error) {
      throw rowWriteError(error, what);
    }
    return out;
  }

  async get(team: string, name: string): Promise<WebhookSubscription | undefined> {
    await this.#ensureTable();
    try {
      return subFromRow(await this.#client.getEntity<Record<string, unknown>>(team, SUB + name));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw rowWriteError(error, "reading a webhook");
    }
  }

  async list(team: string): Promise<WebhookSubscription[]> {
    const rows = await this.#query(
      odata`PartitionKey eq ${team} and RowKey ge ${SUB} and RowKey lt ${"s}"}`,
      "listing webhooks",
    );
    return rows.map(subFromRow);
  }

  async listEnabled(team: string): Promise<WebhookSubscription[]> {
    return (await this.list(team)).filter((s) => s.enabled);
  }

  async put(sub: WebhookSubscription): Promise<WebhookSubscription> {
    await this.#ensureTable();
    try {
      const response =
        sub.etag === undefined
          ? await this.#client.createEntity(subRow(sub))
          : await this.#client.updateEntity(subRow(sub), "Replace", { etag: sub.etag });
      return { ...sub, etag: response.etag ?? "" };
    } catch (error) {
      const status = statusOf(error);
      if (status === 409)
        throw new SandboxError("Conflict", `Webhook "${sub.name}" was created meanwhile; read it and retry.`, {
          cause: error,
        });
      if (status === 404)
        throw new SandboxError("NotFound", `Webhook "${sub.name}" was deleted meanwhile.`, { cause: error });
      throw rowWriteError(error, "writing a webhook");
    }
  }

  async delete(team: string, name: string): Promise<void> {
    const prefix = deliveryKey(name, "");
    const rows = await this.#query(
      odata`PartitionKey eq ${team} and RowKey ge ${prefix} and RowKey lt ${`${prefix.slice(0, -1)}}`}`,
      "deleting a webhook",
    );
    try {
      for (const row of rows) await this.#client.deleteEntity(team, String(row.rowKey)).catch(ignore404);
      await this.#client.deleteEntity(team, SUB + name).catch(ignore404);
    } catch (error) {
      throw rowWriteError(error, "deleting a webhook");
    }
  }

  async addDelivery(delivery: WebhookDelivery): Promise<void> {
    await this.#ensureTable();
    try {
      await this.#client.createEntity(deliveryRow(delivery));
    } catch (error) {
      // Already there: the same event was fanned out before (a crash before the outbox row was removed).
      if (statusOf(error) !== 409) throw rowWriteError(error, "queuing a webhook delivery");
    }
  }

  async getDelivery(team: string, subscription: string, id: string): Promise<WebhookDelivery | undefined> {
    await this.#ensureTable();
    try {
      return deliveryFromRow(
        await this.#client.getEntity<Record<string, unknown>>(team, deliveryKey(subscription, id)),
      );
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw rowWriteError(error, "reading a webhook delivery");
    }
  }

  async listDeliveries(team: string, subscription: string, top: number): Promise<WebhookDelivery[]> {
    const prefix = deliveryKey(subscription, "");
    const rows = await this.#query(
      odata`PartitionKey eq ${team} and RowKey ge ${prefix} and RowKey lt ${`${prefix.slice(0, -1)}}`}`,
      "listing webhook deliveries",
    );
    return rows.map(deliveryFromRow).reverse().slice(0, top);
  }

  async listPending(limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.#query(odata`status eq ${"Pending"}`, "listing pending webhook deliveries", limit);
    return rows.map(deliveryFromRow);
  }

  async updateDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery | undefined> {
    await this.#ensureTable();
    try {
      const response = await this.#client.updateEntity(deliveryRow(delivery), "Replace", {
        etag: delivery.etag ?? "*",
      });
      return { ...delivery, etag: response.etag ?? "" };
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return undefined;
      throw rowWriteError(error, "updating a webhook delivery");
    }
  }
}

function ignore404(error: unknown): void {
  if (statusOf(error) !== 404) throw error;
}
