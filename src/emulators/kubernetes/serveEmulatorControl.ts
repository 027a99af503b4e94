import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultInjector, FaultRule } from "../arm/faultInjector.js";
import type { RequestLog } from "../arm/requestLog.js";
import { sendJson } from "./kubernetesHttp.js";

/** The loopback-only control surface: request log and fault rules, as on the ARM emulator. */
export async function serveEmulatorControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  requestLog: RequestLog,
  faults: FaultInjector,
): Promise<void> {
  const method = req.method ?? "GET";
  const loopback = ["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(req.socket.remoteAddress ?? "");
  if (!loopback) return sendJson(res, 403, { error: { code: "Forbidden", message: "/_emulator/ is loopback-only." } });
  if (path === "/_emulator/requests" && method === "GET") return sendJson(res, 200, requestLog.toJSON());
  if (path === "/_emulator/faults" && method === "GET") return sendJson(res, 200, { rules: faults.list() });
  if ((path === "/_emulator/requests" || path === "/_emulator/faults") && method === "DELETE") {
    if (path === "/_emulator/requests") requestLog.clear();
    else faults.clear();
    res.writeHead(204).end();
    return;
  }
  if (path === "/_emulator/faults" && method === "POST") {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") as FaultRule | FaultRule[];
      return sendJson(res, 201, { ids: (Array.isArray(parsed) ? parsed : [parsed]).map((r) => faults.add(r)) });
    } catch (error) {
      return sendJson(res, 400, { error: { code: "InvalidFaultRule", message: (error as Error).message } });
    }
  }
  const one = /^\/_emulator\/faults\/([^/]+)$/.exec(path);
  if (one?.[1] && method === "DELETE" && faults.remove(one[1])) {
    res.writeHead(204).end();
    return;
  }
  return sendJson(res, 404, { error: { code: "NotFound", message: `no emulator control route ${method} ${path}` } });
}
