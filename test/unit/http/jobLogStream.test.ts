import { test } from "node:test";
import assert from "node:assert/strict";
import { logStream } from "../../../src/http/jobLogStream.js";

/** A log source that counts how far it was read and notices being stopped. */
function source(chunks: string[]): { iterable: AsyncIterable<string>; pulled: () => number; finished: () => boolean } {
  let pulled = 0;
  let finished = false;
  return {
    iterable: (async function* () {
      try {
        for (const chunk of chunks) {
          pulled += 1;
          yield chunk;
        }
      } finally {
        finished = true;
      }
    })(),
    pulled: () => pulled,
    finished: () => finished,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

test("SSE: one log event per line with its line number as id, partial lines joined across chunks, then end", async () => {
  const s = source(["alpha\nbe", "ta\r\ngamma\n", "delta"]);
  const text = await readAll(
    logStream(s.iterable, {
      format: "sse",
      abort: new AbortController(),
      onEnd: async () => ({ status: "Succeeded" }),
    }),
  );
  assert.equal(
    text,
    "retry: 2000\n\n" +
      "id: 1\nevent: log\ndata: alpha\n\n" +
      "id: 2\nevent: log\ndata: beta\n\n" +
      "id: 3\nevent: log\ndata: gamma\n\n" +
      "id: 4\nevent: log\ndata: delta\n\n" +
      'event: end\ndata: {"status":"Succeeded"}\n\n',
  );
});

test("SSE: Last-Event-ID skips the lines already received", async () => {
  const s = source(["a\nb\n", "c\n"]);
  const text = await readAll(logStream(s.iterable, { format: "sse", skipLines: 2, abort: new AbortController() }));
  assert.equal(text, "retry: 2000\n\nid: 3\nevent: log\ndata: c\n\nevent: end\ndata: {}\n\n");
});

test("text: the chunks as they come", async () => {
  const s = source(["a\nb", "\nc"]);
  assert.equal(await readAll(logStream(s.iterable, { format: "text", abort: new AbortController() })), "a\nb\nc");
});

test("a failure midway ends the SSE stream with an error event carrying the API error body", async () => {
  const failing = (async function* () {
    yield "one\n";
    throw new Error("boom");
  })();
  const text = await readAll(
    logStream(failing, {
      format: "sse",
      abort: new AbortController(),
      onError: () => ({ error: { code: "UpstreamFailed", message: "gone" } }),
    }),
  );
  assert.match(text, /data: one\n\nevent: error\ndata: \{"error":\{"code":"UpstreamFailed","message":"gone"\}\}\n\n$/);
});

test("pull-driven: a reader that does not read makes the source read at most one chunk ahead", async () => {
  const s = source(Array.from({ length: 1000 }, (_, i) => `line ${i}\n`));
  const stream = logStream(s.iterable, { format: "text", abort: new AbortController() });
  const reader = stream.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "line 0\n");
  // Let any eager producer run before looking.
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(s.pulled() <= 2, `read ${s.pulled()} chunks for a reader that took 1`);
  await reader.cancel();
});

test("cancelling the stream (the reader went away) aborts the source and ends it", async () => {
  const s = source(["a\n", "b\n", "c\n"]);
  const abort = new AbortController();
  const stream = logStream(s.iterable, { format: "text", abort });
  const reader = stream.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(abort.signal.aborted, true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(s.finished(), true);
});
