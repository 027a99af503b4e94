import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import type { OutboxEvent } from "../../domain/events/cloudEvent.js";
import type { EventOutbox, PendingOutboxEvent } from "../../domain/events/eventOutbox.js";
import { rowWriteError, statusOf } from "./tableErrors.js";

/** Fixed-width epoch ms, so string order is time order. */
function pad(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(15, "0");
}

/**
 * The Table actions that put `events` into the outbox of `partitionKey`:
 * rows `<prefix><time>|<seq>|<event id>` next to the row whose change causes
 * them, so one entity-group transaction commits both (or neither). Upserts:
 * a repeated write of the same state change rewrites the same row (event
 * ids are deterministic).
 */
export function outboxActions(
  partitionKey: string,
  prefix: string,
  events: readonly OutboxEvent[],
): TransactionAction[] {
  return events.map((e) => [
    "upsert",
    {
      partitionKey,
      rowKey: `${prefix}${pad(Date.parse(e.event.time))}|${e.sequence}|${e.event.id}`,
      team: e.team,
      sequence: e.sequence,
      eventType: e.event.type,
      event: JSON.stringify(e.event),
    },
    "Replace",
  ]);
}

/** One table holding outbox rows under a row-key prefix. */
export interface OutboxSource {
  client: TableClient;
  prefix: string;
}

/**
 * {@link EventOutbox} over the tables whose stores write outbox rows (the
 * operations and jobs tables). The rows sit in the partitions of the rows
 * they belong to, so reading them is a cross-partition query on the row-key
 * prefix; the outbox stays small because the dispatcher empties it every pass.
 */
export class TableEventOutbox implements EventOutbox {
  readonly #sources: readonly OutboxSource[];

  constructor(sources: readonly OutboxSource[]) {
    this.#sources = sources;
  }

  async list(limit: number): Promise<PendingOutboxEvent[]> {
    const out: (PendingOutboxEvent & { sortKey: string })[] = [];
    for (const [index, source] of this.#sources.entries()) {
      const upper = source.prefix.slice(0, -1) + "}";
      const filter = odata`RowKey ge ${source.prefix} and RowKey lt ${upper}`;
      try {
        let taken = 0;
        for await (const row of source.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
          const rowKey = String(row.rowKey);
          out.push({
            team: String(row.team),
            sequence: Number(row.sequence ?? 0),
            event: JSON.parse(String(row.event)) as PendingOutboxEvent["event"],
            location: JSON.stringify([index, row.partitionKey, rowKey]),
            sortKey: rowKey.slice(source.prefix.length),
          });
          if (++taken >= limit) break;
        }
      } catch (error) {
        // No table yet: no operation or job was ever written, so nothing is pending.
        if (statusOf(error) === 404) continue;
        throw rowWriteError(error, "reading the event outbox");
      }
    }
    return out
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
      .slice(0, limit)
      .map(({ sortKey: _sortKey, ...entry }) => entry);
  }

  async remove(entry: PendingOutboxEvent): Promise<void> {
    const [index, partitionKey, rowKey] = JSON.parse(entry.location) as [number, string, string];
    const source = this.#sources[index];
    if (!source) return;
    try {
      await source.client.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw rowWriteError(error, "removing an outbox event");
    }
  }
}
