import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_UNAVAILABLE_RETRY_SECONDS, errorResponse } from "../../../src/http/httpOperation.js";
import { SandboxError } from "../../../src/domain/sandboxError.js";

test("every 503 carries Retry-After, also when the upstream gave none (an ARM 500 or reset; found by the fault suite)", () => {
  for (const code of ["UpstreamUnavailable", "UpstreamThrottled", "ServiceUnavailable"] as const) {
    const plain = errorResponse(new SandboxError(code, "Azure did not answer; retry later."), undefined);
    assert.equal(plain.status, 503);
    assert.equal(plain.headers["retry-after"], String(DEFAULT_UNAVAILABLE_RETRY_SECONDS), code);
  }
  const given = errorResponse(
    new SandboxError("UpstreamThrottled", "slow down", { retryAfterSeconds: 1.2 }),
    undefined,
  );
  assert.equal(given.headers["retry-after"], "2", "a known wait wins, rounded up");
  const notFound = errorResponse(new SandboxError("NotFound", "no such thing"), undefined);
  assert.equal(notFound.headers["retry-after"], undefined, "only 503s get a default");
});
