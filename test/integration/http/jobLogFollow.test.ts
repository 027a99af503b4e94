// Live job logs (getJobLogs?follow=true) through the local stack: SSE and
// chunked text, resumption with Last-Event-ID, the end of the stream when the
// job ends, and a reader that disconnects leaving no Kubernetes log stream open.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { poll, startInProcessStack, type SandboxStack } from "../../support/sandboxStack.js";
import type { InProcessApp } from "../../support/inProcessApp.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const DOT_LOOP = { command: ["/bin/sh", "-ec"], args: ["while :; do echo '.'; sleep 5 ; done"] };

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Reads SSE events from a response body until `stopWhen` says so or the stream ends. */
async function readEvents(res: Response, stopWhen: (events: SseEvent[]) => boolean = () => false): Promise<SseEvent[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let at: number;
    while ((at = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const event: SseEvent = { event: "message", data: "" };
      for (const line of block.split("\n")) {
        const [field, ...rest] = line.split(": ");
        const text = rest.join(": ");
        if (field === "id") event.id = text;
        else if (field === "event") event.event = text;
        else if (field === "data") event.data = text;
      }
      if (block.startsWith("retry:")) continue;
      events.push(event);
    }
    if (stopWhen(events)) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

describe("live job logs (follow=true)", () => {
  let stack: SandboxStack<InProcessApp>;
  let submitter: string;
  let jobs: string;

  before(async () => {
    stack = await startInProcessStack({ scale: 0.01 });
    await stack.createCluster("rg-follow", "kata1");
    submitter = await stack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    jobs = `${stack.clusterPath("rg-follow", "kata1")}/jobs`;
  });
  after(async () => {
    await stack?.close();
  });

  const submit = async (name: string, body: Record<string, unknown>): Promise<void> => {
    const res = await stack.call("POST", jobs, submitter, { image: IMAGE, name, ...body });
    assert.equal(res.status, 201, await res.clone().text());
  };
  const follow = (name: string, accept: string, headers: Record<string, string> = {}) =>
    stack.call("GET", `${jobs}/${name}/logs?follow=true`, submitter, undefined, { accept, ...headers });
  const logStreamsOf = (name: string) => stack.azure.kubernetes.openLogStreams().filter((s) => s.includes(`/${name}-`));

  test("SSE streams lines while the job runs and ends with the job when it is canceled", async () => {
    await submit("dots", DOT_LOOP);
    const res = await follow("dots", "text/event-stream");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.ok(res.headers.get("x-ms-request-id"));
    let canceled = false;
    const events = await readEvents(res, (seen) => {
      if (!canceled && seen.filter((e) => e.event === "log").length >= 3) {
        canceled = true;
        // Still running while its lines arrive: the log is live, not read after the end.
        void stack.call("GET", `${jobs}/dots`, submitter).then(async (r) => {
          assert.equal(((await r.json()) as any).status, "Running");
          await stack.call("DELETE", `${jobs}/dots`, submitter);
        });
      }
      return false;
    });
    const logs = events.filter((e) => e.event === "log");
    assert.ok(logs.length >= 3);
    assert.deepEqual(
      logs.slice(0, 3).map((e) => [e.id, e.data]),
      [
        ["1", "."],
        ["2", "."],
        ["3", "."],
      ],
    );
    const end = events.at(-1)!;
    assert.equal(end.event, "end");
    assert.equal(JSON.parse(end.data).status, "Canceled");
  });

  test("Last-Event-ID resumes after the lines already received; text/plain gives the whole log", async () => {
    await submit("abc", { command: ["/bin/sh", "-c"], args: ["echo a; echo b; echo c"] });
    const resumed = await readEvents(await follow("abc", "text/event-stream", { "last-event-id": "2" }));
    assert.deepEqual(
      resumed.filter((e) => e.event === "log").map((e) => [e.id, e.data]),
      [["3", "c"]],
    );
    assert.equal(JSON.parse(resumed.at(-1)!.data).status, "Succeeded");
    const plain = await follow("abc", "text/plain");
    assert.match(plain.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await plain.text(), "a\nb\nc\n");
  });

  test("a reader that disconnects mid-stream leaves no Kubernetes log stream open", async () => {
    await submit("gone", DOT_LOOP);
    const abort = new AbortController();
    const res = await stack.call("GET", `${jobs}/gone/logs?follow=true`, submitter, undefined, {
      accept: "text/plain",
    });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes(".\n.\n")) text += new TextDecoder().decode((await reader.read()).value);
    // The upstream stream is open while the reader reads …
    assert.equal(logStreamsOf("gone").length, 1);
    // … and closed once it went away.
    await reader.cancel();
    abort.abort();
    await poll(
      async () => (logStreamsOf("gone").length === 0 ? true : undefined),
      "the Kubernetes log stream to close",
    );
    await stack.call("DELETE", `${jobs}/gone`, submitter);
  });

  test("follow with tailLines is a 400; another team's job is a 404 before any stream starts", async () => {
    const bad = await stack.call("GET", `${jobs}/abc/logs?follow=true&tailLines=5`, submitter);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.code, "InvalidRequest");
    const beta = await stack.host.token({ team: "beta", roles: ["Sandbox.Reader"] });
    const other = await stack.call("GET", `${jobs}/abc/logs?follow=true`, beta, undefined, {
      accept: "text/event-stream",
    });
    assert.equal(other.status, 404);
    assert.match(other.headers.get("content-type") ?? "", /json/);
  });
});
