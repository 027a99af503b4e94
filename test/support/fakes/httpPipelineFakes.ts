import type { Principal } from "../../../src/domain/identity/principal.js";
import type { TokenVerifier } from "../../../src/domain/identity/tokenVerifier.js";
import type {
  RepeatabilityRecord,
  RepeatabilityStore,
  RepeatableResponse,
} from "../../../src/domain/operations/repeatability.js";
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from "../../../src/domain/policy/auditLog.js";
import { SandboxError } from "../../../src/domain/sandboxError.js";

/** Typed fake {@link TokenVerifier}: accepts exactly the tokens it was given, each as its principal. */
export class FakeTokenVerifier implements TokenVerifier {
  readonly #principals = new Map<string, Principal>();

  constructor(principals: Record<string, Principal> = {}) {
    for (const [token, principal] of Object.entries(principals)) this.#principals.set(token, principal);
  }

  async verify(token: string): Promise<Principal> {
    const principal = this.#principals.get(token);
    if (!principal) throw new SandboxError("Unauthorized", "The bearer token is not valid.");
    return principal;
  }
}

/**
 * Typed in-memory {@link AuditLog}: keeps every record (oldest first); `list` answers newest first, one page.
 * `failing = true` makes every write throw (as an unreachable Table Storage would).
 */
export class InMemoryAuditLog implements AuditLog {
  records: AuditRecord[] = [];
  failing = false;

  #write(): void {
    if (this.failing) throw Object.assign(new Error("audit store unavailable"), { name: "RestError", statusCode: 503 });
  }

  async append(record: AuditRecord): Promise<void> {
    this.#write();
    if (this.records.some((r) => r.id === record.id)) throw new Error(`duplicate audit record ${record.id}`);
    this.records.push(structuredClone(record));
  }

  async settle(record: AuditRecord): Promise<void> {
    this.#write();
    const i = this.records.findIndex((r) => r.id === record.id);
    if (i < 0) throw new Error(`no audit record ${record.id}`);
    const { status, errorCode, operationId } = record;
    this.records[i] = { ...this.records[i]!, status, errorCode, operationId };
  }

  async deleteOlderThan(cutoff: Date, limit: number): Promise<number> {
    this.#write();
    const day = cutoff.toISOString().slice(0, 10);
    const old = this.records.filter((r) => r.time.slice(0, 10) < day).slice(0, limit);
    this.records = this.records.filter((r) => !old.includes(r));
    return old.length;
  }

  async list(_query: AuditQuery): Promise<AuditPage> {
    return { records: [...this.records].reverse(), continuationToken: undefined };
  }
}

/** Typed in-memory {@link RepeatabilityStore}. */
export class InMemoryRepeatabilityStore implements RepeatabilityStore {
  readonly #records = new Map<string, RepeatabilityRecord>();

  async reserve(key: string, fingerprint: string, expiresAt: number) {
    const existing = this.#records.get(key);
    if (existing) return { reserved: false as const, existing: structuredClone(existing) };
    this.#records.set(key, { fingerprint, state: "pending", response: undefined, expiresAt });
    return { reserved: true as const };
  }

  async complete(key: string, response: RepeatableResponse): Promise<void> {
    const existing = this.#records.get(key);
    if (existing) this.#records.set(key, { ...existing, state: "done", response });
  }

  async release(key: string): Promise<void> {
    this.#records.delete(key);
  }

  async get(key: string): Promise<RepeatabilityRecord | undefined> {
    const record = this.#records.get(key);
    return record ? structuredClone(record) : undefined;
  }
}
