import type { TableClient } from "@azure/data-tables";
import { SandboxError } from "../../domain/sandboxError.js";
import {
  PENDING_LEASE_MS,
  type RepeatabilityRecord,
  type RepeatabilityStore,
  type RepeatableResponse,
} from "../../domain/operations/repeatability.js";
import { tableCreator } from "./tableClients.js";
import { statusOf, storageError } from "./tableErrors.js";

/** Default table name of {@link TableRepeatabilityStore}. */
export const REPEATABILITY_TABLE = "repeatability";

export { PENDING_LEASE_MS };

/**
 * {@link RepeatabilityStore} on Azure Tables: partition = first two hex
 * characters of the key (a SHA-256 of caller + request id), row key = the
 * key; properties `fingerprint`, `state`, `expiresAt` (ISO), `response`
 * (JSON: status, headers, body). Nothing secret is stored: bodies are the
 * API's own responses.
 */
export class TableRepeatabilityStore implements RepeatabilityStore {
  readonly #ensure: () => Promise<void>;

  constructor(
    readonly client: TableClient,
    private readonly now: () => number = Date.now,
  ) {
    this.#ensure = tableCreator(client, (error) => storageError(error, "creating the repeatability table"));
  }

  #row(key: string, record: RepeatabilityRecord): Record<string, unknown> & { partitionKey: string; rowKey: string } {
    const row: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: key.slice(0, 2),
      rowKey: key,
      fingerprint: record.fingerprint,
      state: record.state,
      expiresAt: new Date(record.expiresAt).toISOString(),
      reservedAt: new Date(this.now()).toISOString(),
    };
    if (record.response) row.response = JSON.stringify(record.response);
    return row;
  }

  async #read(key: string): Promise<{ record: RepeatabilityRecord; etag: string; reservedAt: number } | undefined> {
    await this.#ensure();
    try {
      const row = await this.client.getEntity<Record<string, unknown>>(key.slice(0, 2), key);
      const response = typeof row.response === "string" ? (JSON.parse(row.response) as RepeatableResponse) : undefined;
      return {
        record: {
          fingerprint: String(row.fingerprint),
          state: row.state === "done" ? "done" : "pending",
          response,
          expiresAt: Date.parse(String(row.expiresAt)),
        },
        etag: row.etag,
        // Rows written before reservedAt existed count as reserved at their creation (never abandoned).
        reservedAt: typeof row.reservedAt === "string" ? Date.parse(row.reservedAt) : this.now(),
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, "reading a repeatability record");
    }
  }

  async get(key: string): Promise<RepeatabilityRecord | undefined> {
    return (await this.#read(key))?.record;
  }

  async reserve(
    key: string,
    fingerprint: string,
    expiresAt: number,
  ): Promise<{ reserved: true } | { reserved: false; existing: RepeatabilityRecord }> {
    await this.#ensure();
    for (let round = 0; round < 4; round++) {
      try {
        await this.client.createEntity(
          this.#row(key, { fingerprint, state: "pending", response: undefined, expiresAt }),
        );
        return { reserved: true };
      } catch (error) {
        if (statusOf(error) !== 409) throw storageError(error, "reserving a request id");
      }
      const existing = await this.#read(key);
      if (!existing) continue;
      const abandoned = existing.record.state === "pending" && existing.reservedAt + PENDING_LEASE_MS < this.now();
      if (existing.record.expiresAt > this.now() && !abandoned) return { reserved: false, existing: existing.record };
      // Expired, or abandoned by an instance that died mid-request: take it over, conditionally on the row we saw.
      try {
        await this.client.updateEntity(
          this.#row(key, { fingerprint, state: "pending", response: undefined, expiresAt }),
          "Replace",
          { etag: existing.etag },
        );
        return { reserved: true };
      } catch (error) {
        if (statusOf(error) !== 412 && statusOf(error) !== 404) throw storageError(error, "reserving a request id");
      }
    }
    throw new SandboxError("ServiceUnavailable", "The request id is contended; retry.", { retryAfterSeconds: 1 });
  }

  async complete(key: string, response: RepeatableResponse): Promise<void> {
    const existing = await this.#read(key);
    if (!existing) return;
    try {
      await this.client.updateEntity(this.#row(key, { ...existing.record, state: "done", response }), "Replace", {
        etag: existing.etag,
      });
    } catch (error) {
      throw storageError(error, "storing a response for replay");
    }
  }

  async release(key: string): Promise<void> {
    await this.#ensure();
    try {
      await this.client.deleteEntity(key.slice(0, 2), key);
    } catch (error) {
      if (statusOf(error) !== 404) throw storageError(error, "releasing a request id");
    }
  }
}
