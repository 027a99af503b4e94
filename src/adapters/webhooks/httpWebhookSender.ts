import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { Webhook } from "standardwebhooks";
import { isSandboxError } from "../../domain/sandboxError.js";
import type { SendResult, WebhookSender } from "../../domain/webhooks/webhookPorts.js";
import type { DnsWebhookTargetGuard, ResolvedAddress } from "./webhookTargetGuard.js";

export interface SenderOptions {
  /** Vets the URL and gives the addresses to connect to (the guard's checked answer, never a second lookup). */
  guard: Pick<DnsWebhookTargetGuard, "vet">;
  /** Whole-attempt timeout, ms (connect, send, response head). Default 10 000. */
  timeoutMs?: number;
  /** Response bytes read at most (the rest is discarded unread). Default 4096. */
  maxResponseBytes?: number;
  /** CA certificates to trust (simulated mode's emulator CA), in addition to the system's. */
  ca?: string | undefined;
  userAgent?: string;
}

/** The Standard Webhooks `webhook-signature` value: one `v1,<sig>` per secret, space-separated. */
export function signatureHeader(
  secrets: readonly string[],
  messageId: string,
  timestamp: Date,
  payload: string,
): string {
  return secrets.map((secret) => new Webhook(secret).sign(messageId, timestamp, payload)).join(" ");
}

function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0]!;
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    } else {
      callback(null, first.address, first.family);
    }
  };
}

/**
 * {@link WebhookSender} on node:http(s): POSTs the CloudEvent JSON with the
 * Standard Webhooks headers (signed by the `standardwebhooks` package), to
 * the addresses the guard vetted, never following redirects, within a
 * short timeout, reading at most a few KiB of the answer. Errors carry no
 * secret and no response body.
 */
export class HttpWebhookSender implements WebhookSender {
  readonly #guard: Pick<DnsWebhookTargetGuard, "vet">;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #ca: string | undefined;
  readonly #userAgent: string;

  constructor(options: SenderOptions) {
    this.#guard = options.guard;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxResponseBytes = options.maxResponseBytes ?? 4096;
    this.#ca = options.ca;
    this.#userAgent = options.userAgent ?? "aks-pod-sandbox-webhooks/1";
  }

  async send(input: {
    url: string;
    secrets: readonly string[];
    messageId: string;
    timestamp: Date;
    payload: string;
  }): Promise<SendResult> {
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.#guard.vet(input.url);
    } catch (error) {
      return { statusCode: undefined, error: isSandboxError(error) ? error.message : "The target URL was refused." };
    }
    const url = new URL(input.url);
    const body = Buffer.from(input.payload, "utf8");
    const headers = {
      "content-type": "application/cloudevents+json; charset=utf-8",
      "content-length": String(body.length),
      "user-agent": this.#userAgent,
      "webhook-id": input.messageId,
      "webhook-timestamp": String(Math.floor(input.timestamp.getTime() / 1000)),
      "webhook-signature": signatureHeader(input.secrets, input.messageId, input.timestamp, input.payload),
    };
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const done = (result: SendResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = request(
        url,
        {
          method: "POST",
          headers,
          agent: false,
          lookup: pinnedLookup(addresses),
          ...(url.protocol === "https:" && this.#ca ? { ca: this.#ca } : {}),
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          let read = 0;
          res.on("data", (chunk: Buffer) => {
            read += chunk.length;
            // Bounded read: a receiver cannot make us buffer (or wait for) a large answer.
            if (read > this.#maxResponseBytes) res.destroy();
          });
          const finish = (): void => {
            if (status >= 200 && status < 300) return done({ statusCode: status, error: undefined });
            const error =
              status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status}`;
            done({ statusCode: status, error });
          };
          res.on("end", finish);
          res.on("close", finish);
          res.on("error", finish);
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        done({ statusCode: undefined, error: `No answer within ${this.#timeoutMs} ms.` });
      }, this.#timeoutMs);
      req.on("error", (error: NodeJS.ErrnoException) =>
        done({ statusCode: undefined, error: `Could not deliver: ${error.code ?? error.name}.` }),
      );
      req.end(body);
    });
  }
}
