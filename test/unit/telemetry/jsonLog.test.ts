import { test } from "node:test";
import assert from "node:assert/strict";
import { formatLogLine, jsonLogger } from "../../../src/telemetry/jsonLog.js";

test("one JSON object per line: a JSON msg is merged, never nested as a string", () => {
  const line = formatLogLine({
    level: "info",
    msg: JSON.stringify({ msg: "reconcileOperations", active: 2 }),
    function: "reconcileOperations",
  });
  assert.ok(!line.includes("\n"));
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.equal(parsed.msg, "reconcileOperations");
  assert.equal(parsed.active, 2);
  assert.equal(parsed.function, "reconcileOperations");
  assert.equal(parsed.level, "info");
  assert.doesNotMatch(line, /"msg":"\{/);
});

test("secret-looking keys and values are redacted", () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
  const line = formatLogLine({
    msg: `calling with ${jwt}`,
    webhookSecret: "whsec_abc",
    nested: { authorization: "Bearer x", note: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    conn: "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=Zm9vYmFy;",
    operationId: "op_1",
    team: "alpha",
  });
  for (const secret of [jwt, "whsec_abc", "Bearer x", "whsec_MfKQ", "Zm9vYmFy"])
    assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.equal(parsed.operationId, "op_1");
  assert.equal(parsed.team, "alpha");
});

test("levels below the minimum are dropped", () => {
  const lines: string[] = [];
  const log = jsonLogger("warn", (l) => lines.push(l));
  log({ level: "info", msg: "quiet" });
  log({ level: "error", msg: "loud", jobId: "j1" });
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0]!) as { jobId: string }).jobId, "j1");
});
