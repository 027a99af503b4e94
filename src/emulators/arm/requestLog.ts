/** One request the emulator answered (no headers, no bodies: nothing secret). */
export interface RequestLogEntry {
  seq: number;
  /** Wall-clock time the request arrived (ISO 8601). */
  wallTime: string;
  /** Simulated time the request arrived (ISO 8601). */
  simulatedTime: string;
  method: string;
  /** Path without the query string. */
  path: string;
  /** `api-version` query parameter, if any. */
  apiVersion?: string;
  /** Route template (swagger spelling), e.g. `/subscriptions/{subscriptionId}/…/agentPools/{agentPoolName}`; `unmatched` otherwise. */
  template: string;
  /** Status answered, or 0 when the connection was reset by a fault. */
  status: number;
  /** Wall milliseconds from arrival to answer. */
  durationMs: number;
  /**
   * The `x-ms-correlation-request-id` the client sent, if any (an id, nothing secret): which request of the
   * caller this one served. ARM echoes it, as the emulator does.
   */
  correlationId?: string;
  /** Id of the fault rule that fired on this request, if any. */
  faultId?: string;
  /** Wall milliseconds the emulator asked the client to wait (`retry-after-ms`), if it sent one. */
  retryAfterMs?: number;
  /**
   * Paths (no query) the `Retry-After` applies to: the request path itself and,
   * for LRO answers, the operation-status and operation-result paths.
   */
  retryAfterAppliesTo?: string[];
  /** The request's JSON body, only with the `recordRequestBodies` setting (bodies may carry secrets). */
  body?: unknown;
}

/** A request that came before the `Retry-After` an earlier answer gave for the same path. */
export interface EarlyRequest {
  entry: RequestLogEntry;
  /** The earlier answer whose `Retry-After` was not honoured. */
  after: RequestLogEntry;
  /** Wall milliseconds too early. */
  earlyByMs: number;
}

/** The request log behind `GET /_emulator/requests`. */
export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;
  /** Entries kept at most (oldest dropped first); counts cover every request since the last clear. */
  readonly #limit: number;
  #counts = new Map<string, number>();
  #total = 0;

  constructor(limit = 20000) {
    this.#limit = limit;
  }

  /** Appends an entry (assigns `seq`). */
  add(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const full = { seq: ++this.#seq, ...entry };
    this.#total++;
    this.#entries.push(full);
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit);
    const key = `${entry.method} ${entry.template}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    return full;
  }

  /** All kept entries, oldest first (a copy). */
  entries(): RequestLogEntry[] {
    return [...this.#entries];
  }

  /** The `seq` of the last request logged (0 before any): a mark for {@link RequestLog.since}. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The kept entries logged after the one numbered `seq`, oldest first. */
  since(seq: number): RequestLogEntry[] {
    let i = this.#entries.length;
    while (i > 0 && this.#entries[i - 1]!.seq > seq) i--;
    return this.#entries.slice(i);
  }

  /** Requests per `"<METHOD> <template>"`. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Number of requests matching method and template. */
  count(method: string, template: string): number {
    return this.#counts.get(`${method.toUpperCase()} ${template}`) ?? 0;
  }

  /** Forgets everything (`DELETE /_emulator/requests`). */
  clear(): void {
    this.#entries = [];
    this.#counts = new Map();
    this.#total = 0;
  }

  /**
   * Requests that arrived earlier than a previous answer's `Retry-After` for
   * the same path allowed (`toleranceMs` of slack for timer jitter, default 5).
   */
  earlyRequests(toleranceMs = 5): EarlyRequest[] {
    const notBefore = new Map<string, { at: number; entry: RequestLogEntry }>();
    const early: EarlyRequest[] = [];
    for (const entry of this.#entries) {
      const t = Date.parse(entry.wallTime);
      const gate = notBefore.get(entry.path.toLowerCase());
      if (gate && t + toleranceMs < gate.at) early.push({ entry, after: gate.entry, earlyByMs: gate.at - t });
      if (entry.retryAfterMs !== undefined) {
        const at = t + entry.durationMs + entry.retryAfterMs;
        for (const p of entry.retryAfterAppliesTo ?? [entry.path]) notBefore.set(p.toLowerCase(), { at, entry });
      }
    }
    return early;
  }

  /** The JSON served by `GET /_emulator/requests`. */
  toJSON(): { counts: Record<string, number>; total: number; entries: RequestLogEntry[] } {
    return { counts: this.counts(), total: this.#total, entries: this.entries() };
  }
}
