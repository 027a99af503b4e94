// Thin registrations only: HTTP names are OpenAPI operationIds; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { loadedServices, services } from "../src/composition.js";
import { reconcileOperationsTimer } from "../src/domain/operations/reconcileOperationsTimer.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { operationHandlers } from "../src/http/operationHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = operationHandlers(services);

app.http("getOperation", httpTrigger("getOperation", handlers.getOperation));
app.http("listOperations", httpTrigger("listOperations", handlers.listOperations));
app.http("cancelOperation", httpTrigger("cancelOperation", handlers.cancelOperation));

// Every 10 s; one pass drives due operations for up to OPERATIONS_PASS_SECONDS.
app.timer("reconcileOperations", {
  schedule: "*/10 * * * * *",
  handler: reconcileOperationsTimer(
    async () => (await loadedServices()).operations,
    () => services().log,
  ),
});
