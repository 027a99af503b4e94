import { formatLogLine } from "../telemetry/jsonLog.js";

/** One structured log line (JSON) on stdout; never headers, bodies or secrets. */
export type LogLine = Record<string, string | number | boolean | undefined | null>;

export type LogSink = (line: LogLine) => void;

/** Writes JSON lines to stdout (level `error` to stderr); a JSON `msg` is merged, never nested as a string. */
export const stdoutLogSink: LogSink = (line) => {
  const text = formatLogLine(line);
  if (line.level === "error") process.stderr.write(`${text}\n`);
  else process.stdout.write(`${text}\n`);
};
