/** One structured log line (JSON) on stdout; never headers, bodies or secrets. */
export type LogLine = Record<string, string | number | boolean | undefined | null>;

export type LogSink = (line: LogLine) => void;

/** Writes JSON lines to stdout (level `error` to stderr). */
export const stdoutLogSink: LogSink = (line) => {
  const text = JSON.stringify({ time: new Date().toISOString(), ...line });
  if (line.level === "error") process.stderr.write(`${text}\n`);
  else process.stdout.write(`${text}\n`);
};
