import { activeTraceId } from "./tracing.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values are never written (secrets by name). */
const SECRET_KEY = /secret|token|password|authorization|connectionstring|accountkey|kubeconfig|^key$/i;
/** Values that look like secrets whatever their key (JWTs, webhook secrets, storage keys). */
const SECRET_VALUE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}|whsec_[A-Za-z0-9+/=]{8,}|AccountKey=[^;\s]+/g;

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.replace(SECRET_VALUE, "[redacted]");
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : scrub(v, depth + 1);
  return out;
}

/**
 * A log line as one JSON object: `time`, `level`, `msg`, the context fields
 * given (`operationId`, `jobId`, `team`, `component`, …) and `traceId` of the
 * active span. A `msg` that is itself a JSON object is merged, never nested
 * as a string. Secret-looking keys and values are redacted.
 */
export function formatLogLine(event: Record<string, unknown>): string {
  let fields = event;
  if (typeof event.msg === "string" && event.msg.startsWith("{")) {
    try {
      const inner = JSON.parse(event.msg) as unknown;
      if (inner && typeof inner === "object" && !Array.isArray(inner)) {
        const { msg: _msg, ...rest } = event;
        fields = { ...rest, ...(inner as Record<string, unknown>) };
        if (fields.msg === undefined) fields.msg = "event";
      }
    } catch {
      // not JSON: keep the text as msg
    }
  }
  const traceId = fields.traceId ?? activeTraceId();
  const line: Record<string, unknown> = {
    time: new Date().toISOString(),
    level: "info",
    ...(scrub(fields) as Record<string, unknown>),
  };
  if (traceId !== undefined) line.traceId = traceId;
  return JSON.stringify(line);
}

/** A logger writing {@link formatLogLine} lines at or above `minLevel` to `write` (default stdout). */
export function jsonLogger(
  minLevel: LogLevel = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
) {
  return (event: Record<string, unknown>): void => {
    const level = (typeof event.level === "string" && event.level in RANK ? event.level : "info") as LogLevel;
    if (RANK[level] < RANK[minLevel]) return;
    write(formatLogLine({ ...event, level }));
  };
}
