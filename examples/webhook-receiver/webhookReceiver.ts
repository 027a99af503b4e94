// A minimal receiver of aks-pod-sandbox webhooks: verifies the Standard
// Webhooks signature with the `standardwebhooks` package, drops repeats by
// `webhook-id` (delivery is at least once), and hands each event's one-line
// summary to `onEvent` — print it, or post it to Teams or Slack (README).
//
//   WEBHOOK_SECRET=whsec_… PORT=8080 npx tsx examples/webhook-receiver/webhookReceiver.ts
import { createServer, type Server } from "node:http";
import { pathToFileURL } from "node:url";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

/** The CloudEvent a delivery carries (only the fields a bot needs). */
export interface SandboxEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  data: { summary: string; resource: unknown };
}

export interface ReceiverOptions {
  /** The `whsec_…` secret from the PUT /webhooks/{name} response (during a rotation: either secret verifies). */
  secret: string;
  onEvent: (event: SandboxEvent) => void | Promise<void>;
  /** How many recent webhook-ids to remember for dedupe (default 10 000). Use a shared store with several replicas. */
  rememberIds?: number;
  /** Largest body accepted, bytes (default 256 KiB). */
  maxBodyBytes?: number;
}

export function createWebhookReceiver(options: ReceiverOptions): Server {
  const verifier = new Webhook(options.secret);
  const seen = new Set<string>();
  const remember = options.rememberIds ?? 10_000;
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  return createServer((req, res) => {
    if (req.method !== "POST") return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBody) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      let event: SandboxEvent;
      try {
        // Checks the signature and that webhook-timestamp is within 5 minutes (replays are refused).
        event = verifier.verify(body, headers) as SandboxEvent;
      } catch (error) {
        res.writeHead(error instanceof WebhookVerificationError ? 401 : 400).end();
        return;
      }
      const id = headers["webhook-id"] ?? event.id;
      // Answer 2xx for repeats too: the sender must stop retrying.
      if (seen.has(id)) return void res.writeHead(204).end();
      seen.add(id);
      if (seen.size > remember) seen.delete(seen.values().next().value!);
      Promise.resolve(options.onEvent(event)).then(
        () => res.writeHead(204).end(),
        () => {
          seen.delete(id); // not handled: let the sender retry it
          res.writeHead(500).end();
        },
      );
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) {
    console.error("Set WEBHOOK_SECRET to the whsec_… secret of your subscription.");
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 8080);
  const server = createWebhookReceiver({
    secret,
    onEvent: (e) => console.log(`${e.time} ${e.type}: ${e.data.summary}`),
  });
  server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}/`));
  process.on("SIGINT", () => server.close(() => process.exit(0)));
}
