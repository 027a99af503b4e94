import type { OutboxEvent } from "./cloudEvent.js";

/** An outbox entry as read back: the event and where its row lives. */
export interface PendingOutboxEvent extends OutboxEvent {
  /** Opaque location of the outbox row (table, partition, row key), for {@link EventOutbox.remove}. */
  readonly location: string;
}

/**
 * Port: the events written by the operation and job stores together with
 * the state changes that cause them (same table, same partition, same
 * entity-group transaction), read back by the webhook dispatcher.
 */
export interface EventOutbox {
  /** Up to `limit` pending events, oldest first (by event time, then sequence). */
  list(limit: number): Promise<PendingOutboxEvent[]>;
  /** Removes an entry once fanned out (idempotent). */
  remove(entry: PendingOutboxEvent): Promise<void>;
}
