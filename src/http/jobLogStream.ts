/**
 * The wire formats of `getJobLogs?follow=true`: Server-Sent Events (one `log`
 * event per line, `id` = line number, usable as `Last-Event-ID`; a final `end`
 * event with the job, or `error` with the API error body) and chunked
 * `text/plain`. Pull-driven: a chunk is read from the log only when the
 * response stream asks for one, so a slow reader slows the upstream instead
 * of filling memory; cancelling the stream (the reader went away) aborts it.
 */
export type LogStreamFormat = "sse" | "text";

export interface LogStreamOptions {
  format: LogStreamFormat;
  /** SSE: lines already received (the `Last-Event-ID`); they are skipped. */
  skipLines?: number;
  /** Aborted when the reader goes away; the log source stops its upstream stream. */
  abort: AbortController;
  /** SSE: the `end` event's data (the job as it ended). */
  onEnd?: () => Promise<unknown>;
  /** SSE: the `error` event's data for a failure midway. */
  onError?: (error: unknown) => unknown;
}

/** One SSE event; `data` never holds a newline (the log is split into lines). */
function sseEvent(event: string, data: string, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${data}\n\n`;
}

/** Splits text chunks into complete lines (without `\n`/`\r\n`); the rest is kept for the next chunk. */
class LineSplitter {
  #rest = "";
  push(text: string): string[] {
    const parts = (this.#rest + text).split("\n");
    this.#rest = parts.pop() ?? "";
    return parts.map((l) => l.replace(/\r$/, ""));
  }
  flush(): string[] {
    const last = this.#rest;
    this.#rest = "";
    return last.length > 0 ? [last] : [];
  }
}

export function logStream(chunks: AsyncIterable<string>, options: LogStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = chunks[Symbol.asyncIterator]();
  const lines = new LineSplitter();
  const skip = options.skipLines ?? 0;
  let lineNumber = 0;
  let done = false;
  const sseLines = (batch: string[]): string => {
    let out = "";
    for (const line of batch) {
      lineNumber += 1;
      if (lineNumber > skip) out += sseEvent("log", line, lineNumber);
    }
    return out;
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // SSE: tell EventSource how long to wait before it reconnects (with Last-Event-ID).
        if (options.format === "sse") controller.enqueue(encoder.encode("retry: 2000\n\n"));
      },
      async pull(controller) {
        if (done) return;
        try {
          // Loop until something can be sent: skipped lines produce no output.
          for (;;) {
            const next = await iterator.next();
            if (next.done) {
              done = true;
              if (options.format === "sse") {
                let tail = sseLines(lines.flush());
                const job = options.onEnd ? await options.onEnd().catch(() => undefined) : undefined;
                tail += sseEvent("end", JSON.stringify(job ?? {}));
                controller.enqueue(encoder.encode(tail));
              }
              controller.close();
              return;
            }
            const out = options.format === "sse" ? sseLines(lines.push(next.value)) : next.value;
            if (out.length > 0) {
              controller.enqueue(encoder.encode(out));
              return;
            }
          }
        } catch (error) {
          done = true;
          if (options.abort.signal.aborted) return;
          if (options.format === "sse")
            controller.enqueue(encoder.encode(sseEvent("error", JSON.stringify(options.onError?.(error) ?? {}))));
          controller.close();
        }
      },
      async cancel() {
        done = true;
        options.abort.abort();
        // Not awaited: a pending read ends on the abort, and the generator's cleanup runs after it.
        void iterator.return?.().catch(() => undefined);
      },
    },
    // One chunk of read-ahead at most.
    { highWaterMark: 1 },
  );
}
