// The example receiver verifies signatures with the standardwebhooks package,
// refuses a bad one, and hands each webhook-id to its handler once.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { signatureHeader } from "../../../src/adapters/webhooks/httpWebhookSender.js";
import { newWebhookSecret } from "../../../src/domain/webhooks/webhookService.js";
import { createWebhookReceiver, type SandboxEvent } from "../../../examples/webhook-receiver/webhookReceiver.js";

test("example receiver: verifies, dedupes by webhook-id, refuses forged deliveries", async () => {
  const secret = newWebhookSecret();
  const got: SandboxEvent[] = [];
  const server = createWebhookReceiver({ secret, onEvent: (e) => void got.push(e) });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const event = {
      specversion: "1.0",
      id: "op_1.succeeded",
      type: "io.aks-pod-sandbox.operation.succeeded",
      subject: "operations/op_1",
      time: new Date().toISOString(),
      data: { summary: "CreateSandboxPool kata succeeded (op_1).", resource: {} },
    };
    const payload = JSON.stringify(event);
    const send = (signingSecrets: string[]) => {
      const now = new Date();
      return fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": event.id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signatureHeader(signingSecrets, event.id, now, payload),
        },
        body: payload,
      });
    };
    assert.equal((await send([newWebhookSecret()])).status, 401);
    assert.equal((await send([secret])).status, 204);
    assert.equal((await send([newWebhookSecret(), secret])).status, 204, "a rotation's double signature verifies");
    assert.deepEqual(
      got.map((e) => e.data.summary),
      ["CreateSandboxPool kata succeeded (op_1)."],
    );
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
