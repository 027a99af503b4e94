// Thin registrations only: the name is the OpenAPI operationId; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { services } from "../src/composition.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { sandboxFeatureHandlers } from "../src/http/sandboxFeatureHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = sandboxFeatureHandlers(services);

app.http("getSandboxFeature", httpTrigger("getSandboxFeature", handlers.getSandboxFeature));
app.http("registerSandboxFeature", httpTrigger("registerSandboxFeature", handlers.registerSandboxFeature));
