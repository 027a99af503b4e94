/**
 * The audit log: one record per mutating request and per denied request;
 * unauthenticated requests (401) are counted per source and minute in one
 * record. Records hold identities, client addresses and outcomes, never
 * tokens, bodies or headers. Nothing in the API changes or deletes them: the
 * pipeline only records the outcome of the record it wrote before a change
 * ({@link AuditLog.settle}), and retention removes whole days past
 * AUDIT_RETENTION_DAYS ({@link AuditLog.deleteOlderThan}).
 */
import { SandboxError } from "../sandboxError.js";

export interface AuditRecord {
  /** Unique id of the record. */
  readonly id: string;
  /** When the response was produced (RFC 3339 UTC, ms precision). */
  readonly time: string;
  /** Entra object id of the caller; null when the request carried no valid token. */
  readonly principalId: string | null;
  readonly principalName: string | null;
  /** Client application id (bots, portals) when the token names one. */
  readonly appId: string | null;
  readonly team: string | null;
  /** The API operation (OpenAPI operationId), e.g. `submitJob`. */
  readonly action: string;
  /** HTTP method. */
  readonly method: string;
  /** The request path, e.g. `/api/v1/subscriptions/…/clusters/c1`; no query string. */
  readonly target: string;
  /**
   * HTTP status of the response; null on a record written before a change whose outcome was never recorded
   * (the request is in flight, or its process stopped before it answered).
   */
  readonly status: number | null;
  /** The API error code of a failed request (`x-ms-error-code`), else null. */
  readonly errorCode: string | null;
  /** This request's `x-ms-request-id`. */
  readonly requestId: string;
  /** The caller's `x-ms-client-request-id`, if sent. */
  readonly clientRequestId: string | null;
  /** The long-running operation the request started (from `Operation-Location`), if any. */
  readonly operationId: string | null;
  /** The caller's address (first `X-Forwarded-For` entry, else `X-Client-IP`), when known. */
  readonly source: string | null;
  /**
   * Requests this record stands for: 1, except for unauthenticated requests (401), which are counted per
   * `source` and minute (action, method and target are `*` when the counted requests differ in them).
   */
  readonly count: number;
}

/** A resolved audit query: newest first, records with `from ≤ time ≤ to`. */
export interface AuditQuery {
  readonly from: Date;
  readonly to: Date;
  readonly team: string | undefined;
  readonly action: string | undefined;
  /** Page size, 1–1000. */
  readonly top: number;
  /** Opaque token from a previous page's `continuationToken`. */
  readonly continuationToken: string | undefined;
}

export interface AuditPage {
  readonly records: readonly AuditRecord[];
  /** Present when more records may follow. Opaque. */
  readonly continuationToken: string | undefined;
}

/** Port: audit storage (append, settle the outcome of an appended record, remove past retention). */
export interface AuditLog {
  /** Stores one record. Never overwrites (a duplicate id fails). */
  append(record: AuditRecord): Promise<void>;
  /**
   * Records the outcome of a record appended before a change (same `id` and `time`): status, error code,
   * operation id. @throws when the record is not there or the store fails.
   */
  settle(record: AuditRecord): Promise<void>;
  /** One page of records, newest first. @throws SandboxError `InvalidRequest` for a bad continuation token. */
  list(query: AuditQuery): Promise<AuditPage>;
  /**
   * Removes every record of the UTC days wholly before `cutoff` (a day's records go together), at most about
   * `limit` records per call. @returns how many were removed.
   */
  deleteOlderThan(cutoff: Date, limit: number): Promise<number>;
}

/** AUDIT_RETENTION_DAYS default: audit records are kept 90 days. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 90;

/** Longest window one audit query may span, in days. */
export const MAX_AUDIT_WINDOW_DAYS = 92;
/** Default window when `from` is omitted, in hours. */
export const DEFAULT_AUDIT_WINDOW_HOURS = 24;

export interface RawAuditQuery {
  from?: string | undefined;
  to?: string | undefined;
  team?: string | undefined;
  action?: string | undefined;
  top?: number | undefined;
  continuationToken?: string | undefined;
}

/**
 * Resolves query parameters: `to` defaults to `now`, `from` to 24 h before
 * `to`, `top` to 100.
 * @throws SandboxError `InvalidRequest` when a time does not parse, `from` is
 * after `to`, or the window exceeds {@link MAX_AUDIT_WINDOW_DAYS} days.
 */
export function resolveAuditQuery(raw: RawAuditQuery, now: Date): AuditQuery {
  const parse = (value: string | undefined, name: string): Date | undefined => {
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime()))
      throw new SandboxError("InvalidRequest", `${name} must be an RFC 3339 date-time, got "${value}".`, {
        target: `query.${name}`,
      });
    return date;
  };
  const to = parse(raw.to, "to") ?? now;
  const from = parse(raw.from, "from") ?? new Date(to.getTime() - DEFAULT_AUDIT_WINDOW_HOURS * 3_600_000);
  if (from.getTime() > to.getTime())
    throw new SandboxError("InvalidRequest", "from must not be after to.", { target: "query.from" });
  if (to.getTime() - from.getTime() > MAX_AUDIT_WINDOW_DAYS * 86_400_000) {
    throw new SandboxError("InvalidRequest", `The window from..to may span at most ${MAX_AUDIT_WINDOW_DAYS} days.`, {
      target: "query.from",
    });
  }
  return {
    from,
    to,
    team: raw.team,
    action: raw.action,
    top: raw.top ?? 100,
    continuationToken: raw.continuationToken,
  };
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Whether a method changes something (its request is audited before the change). */
export function isMutating(method: string): boolean {
  return MUTATING.has(method.toUpperCase());
}

/**
 * Whether a request is audited: every mutating request (whatever its
 * outcome), and every denial (401, 403, and 404s produced by an
 * authorization check).
 */
export function isAudited(method: string, status: number, authorizationDenial: boolean): boolean {
  return MUTATING.has(method.toUpperCase()) || status === 401 || status === 403 || authorizationDenial;
}
