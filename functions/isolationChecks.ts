// Thin registrations only: HTTP names are OpenAPI operationIds; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { services } from "../src/composition.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { isolationCheckHandlers } from "../src/http/isolationCheckHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = isolationCheckHandlers(services);

app.http("startIsolationCheck", httpTrigger("startIsolationCheck", handlers.startIsolationCheck));
