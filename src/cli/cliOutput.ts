/**
 * What the CLI prints: results on stdout (`--output table|json|yaml`),
 * progress on stderr — steps and percentage with a spinner on a terminal,
 * plain lines when stderr is not a terminal or `NO_COLOR` is set.
 */
import ora, { type Ora } from "ora";
import { stringify as toYaml } from "yaml";
import type { Operation } from "../../clients/typescript/src/index.js";

export type OutputFormat = "table" | "json" | "yaml";

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object")
    return Array.isArray(value) && value.every((v) => typeof v !== "object") ? value.join(",") : JSON.stringify(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Rows as aligned columns; the columns are the scalar fields of the rows (or `columns`). */
function table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return "(none)";
  const keys = columns ?? [
    ...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] !== "object" || r[k] === null))),
  ];
  const cells = [keys.map((k) => k.toUpperCase()), ...rows.map((r) => keys.map((k) => cell(r[k])))];
  const widths = keys.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells
    .map((c) =>
      c
        .map((v, i) => v.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Prints a result: a list as rows, an object as FIELD/VALUE rows (table), or the data as JSON/YAML. */
export function printResult(data: unknown, format: OutputFormat, columns?: readonly string[]): void {
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  if (format === "yaml") {
    process.stdout.write(toYaml(data));
    return;
  }
  if (typeof data === "string") {
    process.stdout.write(data.endsWith("\n") ? data : `${data}\n`);
    return;
  }
  if (Array.isArray(data)) {
    process.stdout.write(`${table(data as Record<string, unknown>[], columns)}\n`);
    return;
  }
  const record = (data ?? {}) as Record<string, unknown>;
  process.stdout.write(
    `${table(
      Object.entries(record).map(([field, value]) => ({ field, value: cell(value) })),
      ["field", "value"],
    )}\n`,
  );
}

/** Shows an operation's progress until `done` is called. */
export interface Progress {
  update(operation: Operation): void;
  done(operation: Operation | undefined, failed: boolean): void;
  note(text: string): void;
}

function describe(op: Operation): string {
  const steps = op.steps ?? [];
  const index = steps.findIndex((s) => s.status === "Running");
  const current = index >= 0 ? steps[index] : undefined;
  const stepText = current
    ? ` · step ${index + 1}/${steps.length} ${current.name ?? ""}${current.message ? ` (${current.message})` : ""}`
    : "";
  return `${op.kind ?? "operation"} ${op.status ?? ""}${stepText}${op.percentComplete !== undefined ? ` · ${op.percentComplete}%` : ""}`;
}

/**
 * A spinner on a terminal (unless NO_COLOR), plain lines otherwise. A terminal
 * that reports no width (a pseudo-terminal nobody sized, e.g. `script` run
 * without a terminal of its own) gets plain lines too: ora divides by the
 * width to count the lines it must clear, and with 0 columns that count is
 * infinite, so clearing the spinner never returns and the CLI never exits.
 * A `CI` variable means plain lines as well: ora would quietly fall back to
 * one line per state there, so the choice is made here, once, in the open.
 */
export function createProgress(title: string): Progress {
  const interactive =
    process.stderr.isTTY === true &&
    (process.stderr.columns ?? 0) > 0 &&
    process.env.NO_COLOR === undefined &&
    process.env.CI === undefined &&
    process.env.TERM !== "dumb";
  if (interactive) {
    const spinner: Ora = ora({ text: title, stream: process.stderr, isEnabled: true }).start();
    return {
      update: (op) => (spinner.text = `${title}: ${describe(op)}`),
      note: (text) => (spinner.text = `${title}: ${text}`),
      done: (op, failed) =>
        failed
          ? spinner.fail(op ? `${title}: ${describe(op)}` : title)
          : spinner.succeed(op ? `${title}: ${describe(op)}` : title),
    };
  }
  let last = "";
  const line = (text: string): void => {
    if (text === last) return;
    last = text;
    process.stderr.write(`${text}\n`);
  };
  line(title);
  return {
    update: (op) => line(`${title}: ${describe(op)}`),
    note: (text) => line(`${title}: ${text}`),
    done: (op, failed) => line(`${title}: ${failed ? "FAILED" : "done"}${op ? ` · ${describe(op)}` : ""}`),
  };
}
