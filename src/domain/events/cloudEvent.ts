import type { JobRecord } from "../jobs/jobRecord.js";
import { clusterApiId, jobView } from "../jobs/jobRecord.js";
import { isTerminal, toOperationView, type OperationRecord, type OperationStatus } from "../operations/operation.js";
import { isTerminalJobStatus, type JobStatus } from "../jobs/jobStatus.js";

/** Prefix of every event type (reverse-DNS style, as CloudEvents recommends). */
export const EVENT_TYPE_PREFIX = "io.aks-pod-sandbox.";

/** Every event type the service emits (subscriptions filter on these). */
export const EVENT_TYPES = [
  "io.aks-pod-sandbox.operation.succeeded",
  "io.aks-pod-sandbox.operation.failed",
  "io.aks-pod-sandbox.operation.canceled",
  "io.aks-pod-sandbox.job.started",
  "io.aks-pod-sandbox.job.succeeded",
  "io.aks-pod-sandbox.job.failed",
  "io.aks-pod-sandbox.job.timedout",
  "io.aks-pod-sandbox.job.canceled",
  "io.aks-pod-sandbox.isolationcheck.completed",
  "io.aks-pod-sandbox.feature.registered",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `data` of every event: a line a bot can post as is, and the resource as the API shows it. */
export interface EventData {
  summary: string;
  resource: unknown;
}

/** A CloudEvents 1.0 event in its JSON format (structured mode). */
export interface CloudEvent {
  specversion: "1.0";
  /** Deterministic per state change (`<subject id>.<status>`): a repeated write can never mint a second event. */
  id: string;
  source: string;
  type: EventType;
  subject: string;
  time: string;
  datacontenttype: "application/json";
  data: EventData;
}

/**
 * An event waiting in the outbox: written in the same atomic Table
 * transaction as the state change that causes it, removed once fanned out
 * to the owning team's subscriptions. `sequence` orders events of one write.
 */
export interface OutboxEvent {
  /** The owning team: only its subscriptions receive the event. */
  team: string;
  sequence: number;
  event: CloudEvent;
}

const API = "/api/v1";

function event(
  type: EventType,
  id: string,
  source: string,
  subject: string,
  time: number,
  data: EventData,
): CloudEvent {
  return {
    specversion: "1.0",
    id,
    source,
    type,
    subject,
    time: new Date(time).toISOString(),
    datacontenttype: "application/json",
    data,
  };
}

function lastSegment(path: string): string {
  return path.split("/").filter(Boolean).slice(-1)[0] ?? path;
}

function operationSummary(op: OperationRecord): string {
  const what = `${op.kind} ${lastSegment(op.target)}`;
  if (op.status === "Succeeded") return `${what} succeeded (${op.id}).`;
  if (op.status === "Canceled") return `${what} was canceled (${op.id}).`;
  const error = op.error ? `: ${op.error.code} — ${op.error.message}` : "";
  return `${what} failed${error} (${op.id}).`.replace(/\s+/g, " ");
}

/** The statuses of an operation that are announced by an event. */
export function announcedOperationStatus(status: OperationStatus): boolean {
  return isTerminal(status);
}

/**
 * The events an operation's current state warrants, unless `announced`
 * (the last status an event was written for) already covers it. Pure: the
 * store calls it when it writes the row, so the event and the state change
 * commit together.
 */
export function operationEvents(op: OperationRecord, announced: string | undefined): OutboxEvent[] {
  if (!announcedOperationStatus(op.status) || announced === op.status || op.team === undefined) return [];
  const status = op.status.toLowerCase() as "succeeded" | "failed" | "canceled";
  const view = toOperationView(op);
  const time = op.endedAt ?? op.lastUpdatedAt;
  const source = `${API}${op.target}`;
  const subject = `operations/${op.id}`;
  const out: OutboxEvent[] = [
    {
      team: op.team,
      sequence: 0,
      event: event(`${EVENT_TYPE_PREFIX}operation.${status}`, `${op.id}.${status}`, source, subject, time, {
        summary: operationSummary(op),
        resource: view,
      }),
    },
  ];
  if (op.status === "Succeeded" && op.kind === "IsolationCheck") {
    const result = (op.result ?? {}) as { isolated?: boolean; verdict?: string };
    const verdict = result.isolated === true ? "ISOLATED" : "NOT ISOLATED";
    const summary = `Isolation check on ${lastSegment(op.target.replace(/\/isolation-checks.*$/, ""))}: ${verdict}${result.verdict ? ` — ${result.verdict}` : ""}.`;
    out.push({
      team: op.team,
      sequence: 1,
      event: event(`${EVENT_TYPE_PREFIX}isolationcheck.completed`, `${op.id}.isolationcheck`, source, subject, time, {
        summary,
        resource: view,
      }),
    });
  }
  if (op.status === "Succeeded" && op.kind === "RegisterSandboxFeature") {
    const summary = `The sandbox feature is registered on subscription ${op.subscriptionId}.`;
    out.push({
      team: op.team,
      sequence: 1,
      event: event(`${EVENT_TYPE_PREFIX}feature.registered`, `${op.id}.registered`, source, subject, time, {
        summary,
        resource: view,
      }),
    });
  }
  return out;
}

const JOB_EVENT: Partial<Record<JobStatus, string>> = {
  Running: "started",
  Succeeded: "succeeded",
  Failed: "failed",
  TimedOut: "timedout",
  Canceled: "canceled",
};

function jobSummary(job: JobRecord, word: string): string {
  const where = `on ${job.cluster.clusterName}`;
  if (word === "started") return `Job ${job.name} started ${where}.`;
  if (word === "succeeded")
    return `Job ${job.name} succeeded ${where}${job.exitCode !== undefined ? ` (exit code ${job.exitCode})` : ""}.`;
  if (word === "canceled") return `Job ${job.name} was canceled ${where}.`;
  if (word === "timedout") return `Job ${job.name} timed out ${where}.`;
  const detail = [job.reason, job.exitCode !== undefined ? `exit code ${job.exitCode}` : undefined]
    .filter(Boolean)
    .join(", ");
  return `Job ${job.name} failed ${where}${detail ? `: ${detail}` : ""}.`;
}

/** Job statuses announced by an event. */
export function announcedJobStatus(status: JobStatus): boolean {
  return JOB_EVENT[status] !== undefined;
}

/**
 * The events a job's current state warrants after `announced` (the last
 * status an event was written for): `job.started` once it ran, then its end.
 * A job seen for the first time already finished still gets `started` first
 * when it did start.
 */
export function jobEvents(job: JobRecord, announced: string | undefined): OutboxEvent[] {
  const word = JOB_EVENT[job.status];
  if (
    word === undefined ||
    announced === job.status ||
    (announced !== undefined && isTerminalJobStatus(announced as JobStatus))
  )
    return [];
  const source = `${API}${clusterApiId(job.cluster)}`;
  const subject = `jobs/${job.name}`;
  const view = jobView(job, API);
  const base = `job.${job.uid}`;
  const out: OutboxEvent[] = [];
  const startedAt = Date.parse(job.startedAt ?? "");
  if (word !== "started" && announced !== "Running" && job.startedAt !== undefined) {
    out.push({
      team: job.team,
      sequence: 0,
      event: event(`${EVENT_TYPE_PREFIX}job.started`, `${base}.started`, source, subject, startedAt, {
        summary: jobSummary(job, "started"),
        resource: view,
      }),
    });
  }
  const time = Date.parse((word === "started" ? job.startedAt : job.finishedAt) ?? job.refreshedAt ?? job.createdAt);
  out.push({
    team: job.team,
    sequence: out.length,
    event: event(
      `${EVENT_TYPE_PREFIX}job.${word}` as EventType,
      `${base}.${word}`,
      source,
      subject,
      Number.isNaN(time) ? Date.now() : time,
      {
        summary: jobSummary(job, word),
        resource: view,
      },
    ),
  });
  return out;
}
