/**
 * Idempotent retries (docs/api-conventions.md, `Repeatability-Request-ID`): the first
 * response to a request id is kept 24 h and replayed to retries with the same
 * fingerprint. The store is shared by all instances (Table Storage).
 */

/** Hours a request id is remembered. */
export const REPEATABILITY_HOURS = 24;

/**
 * How long a `pending` reservation is honoured, wall ms. The instance that
 * made it either completes or releases it within one request; past this it
 * died mid-request (a crash, an OOM kill, a scale-in), and a retry with the
 * same id takes the reservation over instead of waiting out the 24 h window.
 */
export const PENDING_LEASE_MS = 60_000;

/** A response as replayed: status, headers, JSON or text body. */
export interface RepeatableResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON body (serialized), or the text body. */
  body?: string;
  isText?: boolean;
  contentType?: string;
}

/** What is known about a request id. */
export interface RepeatabilityRecord {
  /** Hash of method, path, query and body of the first request. */
  fingerprint: string;
  /** `pending` while the first request runs. */
  state: "pending" | "done";
  response: RepeatableResponse | undefined;
  /** Wall ms after which the id may be reused. */
  expiresAt: number;
}

/** Port: the repeatability records. `key` is already scoped to the caller and hashed. */
export interface RepeatabilityStore {
  /**
   * Reserves `key` for a first execution; when it is already known (and not
   * expired) returns the existing record instead.
   */
  reserve(
    key: string,
    fingerprint: string,
    expiresAt: number,
  ): Promise<{ reserved: true } | { reserved: false; existing: RepeatabilityRecord }>;
  /** Stores the response of the first execution. */
  complete(key: string, response: RepeatableResponse): Promise<void>;
  /** Forgets a reservation whose execution failed (so that a retry runs again). */
  release(key: string): Promise<void>;
  get(key: string): Promise<RepeatabilityRecord | undefined>;
}
