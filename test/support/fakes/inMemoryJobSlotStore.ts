import type { JobSlotStore, ReserveOutcome } from "../../../src/domain/policy/jobSlots.js";

/**
 * Typed in-memory {@link JobSlotStore} for domain tests: per team, the ids holding a slot (idempotent per id, never
 * more than the limit). Integration tests of the Tables adapter use Azurite.
 */
export class InMemoryJobSlotStore implements JobSlotStore {
  readonly #held = new Map<string, Set<string>>();

  #team(team: string): Set<string> {
    let ids = this.#held.get(team);
    if (!ids) this.#held.set(team, (ids = new Set()));
    return ids;
  }

  async tryReserve(team: string, jobId: string, limit: number): Promise<ReserveOutcome> {
    const ids = this.#team(team);
    if (ids.has(jobId)) return { outcome: "alreadyHeld", inUse: ids.size };
    if (ids.size >= limit) return { outcome: "full", inUse: ids.size };
    ids.add(jobId);
    return { outcome: "reserved", inUse: ids.size };
  }

  async release(team: string, jobId: string): Promise<boolean> {
    return this.#team(team).delete(jobId);
  }

  async holders(team: string): Promise<string[]> {
    return [...this.#team(team)];
  }
}
