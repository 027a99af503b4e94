import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import functionsLibrary from "@azure/functions";
import type { HttpRequest as HttpRequestType, HttpResponseInit } from "@azure/functions";
import { loadFunctionApp } from "../../../src/localhost/loadFunctionApp.js";
import { LOCAL_AUDIENCE, LOCAL_ISSUER, LocalTokenIssuer } from "../../../src/localhost/localTokenIssuer.js";
import type { FunctionRegistry } from "../../../src/localhost/functionRegistry.js";
import type { RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../support/testAzurite.js";

/**
 * The body limit lives in the API's HTTP layer, not in a host: requests are
 * `@azure/functions`' own HttpRequest objects (built as the library builds
 * them on its streaming path: a native Request over a stream), handed to the
 * registered handler as the Azure worker would.
 */
const { HttpRequest, InvocationContext } = functionsLibrary;
const SUBSCRIPTION = "11111111-1111-1111-1111-111111111111";
const POOL_URL = `http://localhost/api/v1/subscriptions/${SUBSCRIPTION}/resourceGroups/rg1/clusters/c1/sandbox-pools/kata1`;
const LIMIT = 4096;

/** A body stream that records how many bytes were pulled; `total` undefined = endless. */
function countingStream(
  total: number | undefined,
  chunkSize = 1024,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (total !== undefined && pulled >= total) {
          controller.close();
          return;
        }
        const size = total === undefined ? chunkSize : Math.min(chunkSize, total - pulled);
        pulled += size;
        controller.enqueue(new Uint8Array(size).fill(0x20));
      },
    },
    { highWaterMark: 0 },
  ); // pull only when read, so "pulled" is what the reader asked for
  return { stream, pulled: () => pulled };
}

function streamingRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  stream?: ReadableStream<Uint8Array>,
): HttpRequestType {
  const init: RequestInit & { duplex?: "half" } = {
    method,
    headers,
    ...(stream ? { body: stream, duplex: "half" } : {}),
  };
  // `nativeRequest` is how the library's own streaming path (createStreamRequest) builds its requests.
  const streamingInit = {
    nativeRequest: new Request(url, init),
    params: { subscriptionId: SUBSCRIPTION, resourceGroup: "rg1", clusterName: "c1", poolName: "kata1" },
  };
  return new HttpRequest(streamingInit);
}

describe("request body limit in the HTTP layer (SANDBOX_MAX_REQUEST_BODY_BYTES)", () => {
  let registry: FunctionRegistry;
  let jwks: Server;
  let dataDir: string;
  let token: string;
  let azurite: RunningAzurite;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-body-"));
    // Refused requests are audited: the audit table must answer (a missing one means seconds of retries per request).
    azurite = await startTestAzurite();
    const issuer = await LocalTokenIssuer.open(dataDir);
    jwks = createServer((req, res) => issuer.serveJwks(req, res));
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const port = (jwks.address() as { port: number }).port;
    Object.assign(process.env, {
      SANDBOX_SIMULATE: "true",
      AzureWebJobsStorage: azurite.connectionString,
      AUTH_ISSUER: LOCAL_ISSUER,
      AUTH_AUDIENCE: LOCAL_AUDIENCE,
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/keys`,
      SANDBOX_DATA_DIR: dataDir,
      SANDBOX_MAX_REQUEST_BODY_BYTES: String(LIMIT),
    });
    registry = await loadFunctionApp();
    token = await issuer.mint({ team: "alpha", roles: ["Sandbox.Operator"] });
  });
  after(async () => {
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
    await azurite?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function invoke(
    name: string,
    request: HttpRequestType,
  ): Promise<{ status: number; code: string | undefined; body: string }> {
    const fn = registry.get(name);
    assert.ok(fn, `${name} registered`);
    const response = (await fn.handler(request, new InvocationContext({ functionName: name }))) as HttpResponseInit;
    const body = typeof response.body === "string" ? response.body : "";
    const code = body ? (JSON.parse(body) as { error?: { code?: string } }).error?.code : undefined;
    return { status: response.status ?? 200, code, body };
  }

  const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

  test("a Content-Length over the limit is refused with 413 before a byte is read", async () => {
    const body = countingStream(10 * 1024 * 1024);
    const res = await invoke(
      "putSandboxPool",
      streamingRequest("PUT", POOL_URL, { ...auth(), "content-length": String(10 * 1024 * 1024) }, body.stream),
    );
    assert.equal(res.status, 413);
    assert.equal(res.code, "PayloadTooLarge");
    assert.match(res.body, /SANDBOX_MAX_REQUEST_BODY_BYTES/);
    assert.equal(body.pulled(), 0, "nothing read");
  });

  test("an endless chunked body is cut off by the counter just past the limit (413)", async () => {
    const body = countingStream(undefined);
    const res = await invoke(
      "putSandboxPool",
      streamingRequest("PUT", POOL_URL, { ...auth(), "transfer-encoding": "chunked" }, body.stream),
    );
    assert.equal(res.status, 413);
    assert.equal(res.code, "PayloadTooLarge");
    assert.ok(body.pulled() <= LIMIT + 4 * 1024, `read ${body.pulled()} bytes of an endless body`);
  });

  test("a body within the limit is read and validated (400 names the unknown field)", async () => {
    const json = JSON.stringify({ vmSize: "Standard_D4s_v3", nodeCount: 1, bogus: "x".repeat(LIMIT / 2) });
    const res = await invoke(
      "putSandboxPool",
      new HttpRequest({
        method: "PUT",
        url: POOL_URL,
        headers: auth(),
        body: { string: json },
        params: { subscriptionId: SUBSCRIPTION, resourceGroup: "rg1", clusterName: "c1", poolName: "kata1" },
      }),
    );
    assert.equal(res.status, 400, res.body);
    assert.equal(res.code, "InvalidRequest");
    assert.match(res.body, /bogus/);
  });

  test("a route that takes no body never reads one, and refuses it (400)", async () => {
    const body = countingStream(10 * 1024 * 1024);
    const res = await invoke(
      "deleteSandboxPool",
      streamingRequest("DELETE", POOL_URL, { ...auth(), "content-length": String(10 * 1024 * 1024) }, body.stream),
    );
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /takes no body/);
    assert.equal(body.pulled(), 0, "nothing read");
  });

  test("a non-JSON body is refused with 415 before it is read", async () => {
    const body = countingStream(100);
    const res = await invoke(
      "putSandboxPool",
      streamingRequest(
        "PUT",
        POOL_URL,
        { authorization: `Bearer ${token}`, "content-type": "text/plain", "content-length": "100" },
        body.stream,
      ),
    );
    assert.equal(res.status, 415);
    assert.equal(body.pulled(), 0);
  });
});
