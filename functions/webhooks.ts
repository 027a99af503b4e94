// Thin registrations only: HTTP names are OpenAPI operationIds; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { loadedServices, services } from "../src/composition.js";
import { reconcileWebhooksTimer } from "../src/domain/webhooks/reconcileWebhooksTimer.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { webhookHandlers } from "../src/http/webhookHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = webhookHandlers(services);

app.http("listWebhooks", httpTrigger("listWebhooks", handlers.listWebhooks));
app.http("putWebhook", httpTrigger("putWebhook", handlers.putWebhook));
app.http("getWebhook", httpTrigger("getWebhook", handlers.getWebhook));
app.http("deleteWebhook", httpTrigger("deleteWebhook", handlers.deleteWebhook));
app.http("rotateWebhookSecret", httpTrigger("rotateWebhookSecret", handlers.rotateWebhookSecret));
app.http("listWebhookDeliveries", httpTrigger("listWebhookDeliveries", handlers.listWebhookDeliveries));
app.http("redeliverWebhookDelivery", httpTrigger("redeliverWebhookDelivery", handlers.redeliverWebhookDelivery));

// Every 5 s: move outbox events to deliveries and send what is due (WEBHOOK_DELIVERY_SCHEDULE overrides).
app.timer("deliverWebhooks", {
  schedule: process.env.WEBHOOK_DELIVERY_SCHEDULE ?? "*/5 * * * * *",
  handler: reconcileWebhooksTimer(
    async () => (await loadedServices()).webhookDispatcher,
    () => services().log,
  ),
});
