import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { FunctionRegistry } from "../../src/localhost/functionRegistry.js";

/**
 * Drives the registrations through `@azure/functions`' own worker path — the
 * programming model the Azure host talks to over RPC (RPC http data in,
 * `toRpcHttp` out) — instead of the local host, to show they load and answer
 * unchanged in the real Functions runtime.
 */
interface RpcHttp {
  statusCode?: string;
  headers?: Record<string, string>;
  body?: { bytes?: Uint8Array; string?: string };
}
interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: unknown): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<{ returnValue?: { http?: RpcHttp } }>;
}
interface ProgrammingModel {
  name: string;
  getInvocationModel(coreContext: unknown): InvocationModel;
}

export async function invokeViaWorkerPath(
  registry: FunctionRegistry,
  name: string,
  url: string,
  headers: Record<string, string> = {},
  /** Route parameters, as the host fills them from the function's route template (`{asset}`). */
  params: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const fn = registry.get(name);
  assert.ok(fn, `${name} registered`);
  const model = registry.programmingModel as ProgrammingModel;
  assert.equal(model.name, "@azure/functions");
  const triggerName = Object.entries(fn.metadata.bindings).find(([, b]) => /trigger$/i.test(b.type))![0];
  const invocationId = randomUUID();
  const invocationModel = model.getInvocationModel({
    invocationId,
    metadata: fn.metadata,
    request: {
      invocationId,
      inputData: [{ name: triggerName, data: { http: { method: "GET", url, headers, query: {}, params } } }],
      triggerMetadata: {},
    },
    state: undefined,
    log: () => undefined,
  });
  const { context, inputs } = await invocationModel.getArguments();
  const result = await invocationModel.invokeFunction(context, inputs, fn.handler);
  const response = await invocationModel.getResponse(context, result);
  const http = response.returnValue?.http;
  assert.ok(http, "an http return value");
  const body = http.body?.bytes ? Buffer.from(http.body.bytes).toString("utf8") : (http.body?.string ?? "");
  return { status: Number(http.statusCode), headers: http.headers ?? {}, body };
}
