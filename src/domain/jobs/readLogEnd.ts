/**
 * Reading the END of a container log with bounded memory, through the
 * Kubernetes log API's two limits: `tailLines` (the last lines) and
 * `limitBytes`, which the API server applies AFTER `tailLines`, cutting the
 * tail from its start. So when the last `maxLines` lines are longer than
 * `maxBytes`, one request answers the first `maxBytes` of the tail — the
 * wrong end. Here fewer lines are asked for until the answer is no longer
 * cut: the result always ends where the log ends.
 */

/** One log read with both limits (`ClusterKubernetes.readPodLog` bound to a pod). */
export type LogRead = (options: { tailLines: number; limitBytes: number }) => Promise<string>;

/** Most reads one {@link readLogEnd} makes (each at least halves the lines; 20,000 lines need ≤ 15). */
const MAX_READS = 20;

/**
 * The last lines of a log, at most `maxLines` lines and (except for a single
 * line longer than `maxBytes`, whose first `maxBytes` are all the API gives)
 * at most `maxBytes` bytes, ending at the log's end.
 * @returns the text and whether lines were dropped to fit `maxBytes`.
 */
export async function readLogEnd(
  read: LogRead,
  limits: { maxLines: number; maxBytes: number },
): Promise<{ text: string; shortened: boolean }> {
  let lines = limits.maxLines;
  let shortened = false;
  for (let reads = 1; ; reads++) {
    const text = await read({ tailLines: lines, limitBytes: limits.maxBytes });
    // Shorter than the limit: the API server did not cut, this is the whole tail.
    if (Buffer.byteLength(text, "utf8") < limits.maxBytes || lines <= 1 || reads >= MAX_READS)
      return { text, shortened };
    // Cut: the last `lines` lines exceed maxBytes. The complete lines received tell
    // how many lines of this log fit; ask for at most that many, and at most half.
    const complete = text.split("\n").length - 1;
    lines = Math.max(1, Math.min(Math.floor(lines / 2), complete));
    shortened = true;
  }
}
