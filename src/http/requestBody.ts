import type { HttpRequest } from "@azure/functions";
import { SandboxError } from "../domain/sandboxError.js";

/** Default of SANDBOX_MAX_REQUEST_BODY_BYTES: 1 MiB. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** What {@link readJsonRequestBody} found. */
export interface RequestBody {
  /** True when the request carries a body (declared or sent), even if it was not read. */
  readonly hasBody: boolean;
  /** The parsed JSON body, when the operation takes one and it was read. */
  readonly body: unknown;
}

function tooLarge(maxBytes: number): SandboxError {
  return new SandboxError(
    "PayloadTooLarge",
    `The request body exceeds ${maxBytes} bytes (SANDBOX_MAX_REQUEST_BODY_BYTES).`,
    {
      target: "body",
    },
  );
}

/** True when the headers announce a body: a positive Content-Length or a Transfer-Encoding. */
function announcesBody(request: HttpRequest): boolean {
  const length = request.headers.get("content-length");
  if (length !== null && length.trim() !== "" && Number(length) > 0) return true;
  return request.headers.get("transfer-encoding") !== null;
}

/**
 * Reads at most `maxBytes` of the body stream, counting as it goes: the
 * moment the count passes the limit the stream is cancelled and 413 thrown,
 * so a caller cannot make the worker buffer more than the limit, whatever
 * Content-Length said (or when it said nothing, as with chunked bodies).
 */
async function readBounded(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks);
}

/**
 * The request body of an operation, limited in the HTTP layer itself (the
 * Functions host's own limit is far larger):
 * - an operation that takes no body never reads one; the headers tell
 *   whether one was sent (the validator then refuses it with 400);
 * - Content-Length over `maxBytes` → 413 `PayloadTooLarge` before a byte is read;
 * - otherwise the stream is read with a counter and cut off past `maxBytes` (413);
 * - a body that is not JSON by Content-Type → 415 before it is read; not UTF-8 or not JSON → 400.
 */
export async function readJsonRequestBody(
  request: HttpRequest,
  options: { takesBody: boolean; maxBytes: number },
): Promise<RequestBody> {
  if (!options.takesBody) return { hasBody: announcesBody(request), body: undefined };
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > options.maxBytes) throw tooLarge(options.maxBytes);
  const stream = request.body as ReadableStream<Uint8Array> | null;
  if (stream === null) return { hasBody: false, body: undefined };
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    if (!announcesBody(request)) {
      // No declared body: an empty stream is no body; anything else is the wrong media type.
      const bytes = await readBounded(stream, options.maxBytes);
      if (bytes.byteLength === 0) return { hasBody: false, body: undefined };
    }
    throw new SandboxError(
      "UnsupportedMediaType",
      `The body must be JSON (Content-Type: application/json), got "${type || "none"}".`,
      {
        target: "header.content-type",
      },
    );
  }
  const bytes = await readBounded(stream, options.maxBytes);
  if (bytes.byteLength === 0) return { hasBody: false, body: undefined };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SandboxError("InvalidRequest", "The body is not valid UTF-8.", { target: "body" });
  }
  try {
    return { hasBody: true, body: JSON.parse(text) as unknown };
  } catch (error) {
    throw new SandboxError("InvalidRequest", `The body is not valid JSON: ${(error as Error).message}.`, {
      target: "body",
    });
  }
}
