import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the receiver got. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** The status it answered. */
  status: number;
}

/** A local webhook receiver on 127.0.0.1 (free port) for tests. */
export interface TestWebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Statuses to answer, in order; once used up, `fallback` (default 200). */
  respond(statuses: number[], fallback?: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = "/hook"): Promise<TestWebhookReceiver> {
  let queue: number[] = [];
  let fallback = 200;
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = queue.shift() ?? fallback;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      received.push({ headers, body: Buffer.concat(chunks).toString("utf8"), status });
      res.writeHead(status, { "content-type": "text/plain", connection: "close" }).end(status < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    respond(statuses, otherwise = 200) {
      queue = [...statuses];
      fallback = otherwise;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
