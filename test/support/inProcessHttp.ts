import functions, { type HttpFunctionOptions } from "@azure/functions";

// @azure/functions is CommonJS whose named exports Node's ESM loader cannot see: take the classes off the default.
const { HttpRequest, InvocationContext } = functions;

/** What an in-process call answered: status, lower-cased headers, the body text and, when JSON, the parsed body. */
export interface InProcessResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  json<T = unknown>(): T;
}

/** A request to a registration: path relative to `/api/v1`; `params` are the route's (the host fills them). */
export interface InProcessRequest {
  method?: string;
  path: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Calls a registration's handler (as `httpTriggers(services)(operationId, handler)` returns it) in-process with a
 * real `HttpRequest` and `InvocationContext` from `@azure/functions`: no host process, no port.
 */
export async function callInProcess(
  registration: HttpFunctionOptions,
  request: InProcessRequest,
): Promise<InProcessResponse> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) headers["content-type"] ??= "application/json";
  const httpRequest = new HttpRequest({
    method: request.method ?? "GET",
    url: `http://127.0.0.1/api/v1${request.path}`,
    headers,
    params: request.params ?? {},
    ...(request.body === undefined ? {} : { body: { string: JSON.stringify(request.body) } }),
  });
  const context = new InvocationContext({ functionName: "inProcess", invocationId: "in-process" });
  const response = await registration.handler(httpRequest, context);
  const init = response as { status?: number; headers?: Record<string, string>; body?: unknown };
  const text = typeof init.body === "string" ? init.body : "";
  const entries = Object.entries(init.headers ?? {});
  const lowered = Object.fromEntries(entries.map(([name, value]) => [name.toLowerCase(), value]));
  return { status: init.status ?? 200, headers: lowered, text, json: <T>() => JSON.parse(text) as T };
}
