import { RestError, type TableClient } from "@azure/data-tables";
import type { BudgetGrant, BudgetLedger } from "../../domain/operations/armBudget.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { tableCreator } from "./tableClients.js";

/** Table of the shared ARM budget: PK `budget`, RowKey = lower-case subscription id. */
export const ARM_BUDGET_TABLE = "armbudget";
const PARTITION = "budget";

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : (error as { statusCode?: number }).statusCode;
}

/**
 * {@link BudgetLedger} on Azure Table Storage: one row per subscription
 * holding `tokens` (a float) and `at` (epoch ms of the last refill). A take
 * reads the row, adds what accrued since `at` (capped at `perMinute`), grants
 * what it can and writes the row back with `If-Match`; a lost race (412, or
 * 409 on the first insert) re-reads. So instances never grant the same token
 * twice. The row holds no secret.
 */
export class TableArmBudgetLedger implements BudgetLedger {
  readonly #createTable: () => Promise<void>;

  constructor(readonly client: TableClient) {
    this.#createTable = tableCreator(
      client,
      (error) =>
        new SandboxError("ServiceUnavailable", "Table Storage failed while creating the ARM budget table.", {
          retryAfterSeconds: 5,
          cause: error,
        }),
    );
  }

  async take(
    subscriptionId: string,
    wanted: number,
    bucket: { perMinute: number; scale: number; now: number },
  ): Promise<BudgetGrant> {
    await this.#createTable();
    const perMs = bucket.perMinute / (60_000 * bucket.scale);
    for (let attempt = 0; attempt < 10; attempt++) {
      let row: { tokens: number; at: number; etag: string | undefined };
      try {
        const entity = await this.client.getEntity<{ tokens?: number; at?: number }>(PARTITION, subscriptionId);
        row = { tokens: Number(entity.tokens ?? 0), at: Number(entity.at ?? bucket.now), etag: entity.etag };
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        row = { tokens: bucket.perMinute, at: bucket.now, etag: undefined };
      }
      const tokens = Math.min(bucket.perMinute, row.tokens + Math.max(0, bucket.now - row.at) * perMs);
      const granted = Math.max(0, Math.min(wanted, Math.floor(tokens)));
      if (granted === 0) return { granted: 0, waitMs: Math.ceil((1 - tokens) / perMs) };
      const entity = {
        partitionKey: PARTITION,
        rowKey: subscriptionId,
        tokens: tokens - granted,
        at: Math.max(row.at, bucket.now),
      };
      try {
        if (row.etag === undefined) await this.client.createEntity(entity);
        else await this.client.updateEntity(entity, "Replace", { etag: row.etag });
        return { granted, waitMs: 0 };
      } catch (error) {
        const status = statusOf(error);
        if (status !== 412 && status !== 409) throw error;
      }
    }
    // Heavy contention: nothing this time; ask again shortly.
    return { granted: 0, waitMs: 100 };
  }
}
