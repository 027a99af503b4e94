import type { WebhookInput } from "../domain/webhooks/webhookService.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

/** Handlers of the webhook routes (`WebhookService`; Operator to change, Reader to read; always the caller's team's subscriptions). */
export function webhookHandlers(services: ServicesSource<"webhooks">) {
  /** `putWebhook`: 201 + the secret (shown once) when created, 200 when updated. */
  const putWebhook: OperationHandler<WebhookInput> = async ({ params, body, principal }) => {
    const result = await services().webhooks.put(principal, params.webhookName ?? "", body);
    if (!result.created) return { status: 200, body: result.view };
    return {
      status: 201,
      headers: { location: result.view.links.self },
      body: { ...result.view, secret: result.secret },
    };
  };
  const getWebhook: OperationHandler = async ({ params, principal }) => ({
    body: await services().webhooks.get(principal, params.webhookName ?? ""),
  });
  const listWebhooks: OperationHandler = async ({ principal }) => ({
    body: { value: await services().webhooks.list(principal) },
  });
  /** `deleteWebhook`: 204, also when there was nothing to delete. */
  const deleteWebhook: OperationHandler = async ({ params, principal }) => {
    await services().webhooks.delete(principal, params.webhookName ?? "");
    return { status: 204 };
  };
  /** `rotateWebhookSecret`: the new secret, shown once; the old one signs too until the grace period ends. */
  const rotateWebhookSecret: OperationHandler = async ({ params, principal, query }) => {
    const { view, secret } = await services().webhooks.rotateSecret(
      principal,
      params.webhookName ?? "",
      num(query.graceSeconds),
    );
    return { body: { ...view, secret } };
  };
  const listWebhookDeliveries: OperationHandler = async ({ params, principal, query }) => ({
    body: {
      value: await services().webhooks.listDeliveries(principal, params.webhookName ?? "", num(query.top) ?? 100),
    },
  });
  /** `redeliverWebhookDelivery`: 200 with the delivery queued again (Pending); the next delivery pass sends it. */
  const redeliverWebhookDelivery: OperationHandler = async ({ params, principal }) => ({
    body: await services().webhooks.redeliver(principal, params.webhookName ?? "", params.deliveryId ?? ""),
  });
  return {
    putWebhook,
    getWebhook,
    listWebhooks,
    deleteWebhook,
    rotateWebhookSecret,
    listWebhookDeliveries,
    redeliverWebhookDelivery,
  };
}
