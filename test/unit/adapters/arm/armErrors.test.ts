import { test } from "node:test";
import assert from "node:assert/strict";
import { RestError, createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import { retryAfterMsFrom, translateArmError } from "../../../../src/adapters/arm/armErrors.js";
import { isRetryableUpstream } from "../../../../src/domain/operations/armOperations.js";

function restError(status: number, body: unknown, headers: Record<string, string> = {}): RestError {
  const request = createPipelineRequest({ url: "https://127.0.0.1/x" });
  return new RestError("failed", {
    statusCode: status,
    request,
    response: { status, request, headers: createHttpHeaders(headers), bodyAsText: JSON.stringify(body) },
  });
}

test("RestError → SandboxError: 429 throttled with Retry-After, 5xx unavailable, 4xx carries ARM's code; OperationNotAllowed is retryable", () => {
  const throttled = translateArmError(
    restError(429, { error: { code: "TooManyRequests", message: "slow down" } }, { "retry-after-ms": "1500" }),
    "x",
  );
  assert.equal(throttled.code, "UpstreamThrottled");
  assert.equal(throttled.retryAfterSeconds, 1.5);
  assert.equal(translateArmError(restError(503, {}), "x").code, "UpstreamUnavailable");
  const refused = translateArmError(
    restError(400, { error: { code: "InvalidParameter", message: "bad vm size", target: "vmSize" } }),
    "the PUT",
  );
  assert.equal(refused.code, "UpstreamFailed");
  assert.deepEqual(refused.details, [{ code: "InvalidParameter", message: "bad vm size", target: "vmSize" }]);
  assert.equal(isRetryableUpstream(refused), false);
  const busy = translateArmError(
    restError(409, { error: { code: "OperationNotAllowed", message: "Another agentpool operation is in progress" } }),
    "x",
  );
  assert.equal(isRetryableUpstream(busy), true);
  const reset = translateArmError(Object.assign(new RestError("socket hang up", { code: "ECONNRESET" }), {}), "x");
  assert.equal(reset.code, "UpstreamUnavailable");
});

test("Retry-After parsing: retry-after-ms wins, seconds, HTTP date", () => {
  assert.equal(
    retryAfterMsFrom((n) => ({ "retry-after-ms": "250", "retry-after": "1" })[n]),
    250,
  );
  assert.equal(
    retryAfterMsFrom((n) => ({ "retry-after": "7" })[n]),
    7000,
  );
  assert.equal(
    retryAfterMsFrom((n) => ({ "retry-after": new Date(10_000).toUTCString() })[n], 5_000),
    5_000,
  );
  assert.equal(
    retryAfterMsFrom(() => undefined),
    undefined,
  );
});
