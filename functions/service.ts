// Thin registrations only: the name is the OpenAPI operationId; route,
// method and auth come from the document through httpTrigger; the handlers
// get the composition root's services.
import { app } from "@azure/functions";
import { configurationProblems, services } from "../src/composition.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { serviceHandlers } from "../src/http/serviceHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = serviceHandlers({ services, configurationProblems });

app.http("healthz", httpTrigger("healthz", handlers.healthz));
app.http("readyz", httpTrigger("readyz", handlers.readyz));
app.http("getOpenApiDocument", httpTrigger("getOpenApiDocument", handlers.getOpenApiDocument));
app.http("getApiDocs", httpTrigger("getApiDocs", handlers.getApiDocs));
app.http("getApiDocsAsset", httpTrigger("getApiDocsAsset", handlers.getApiDocsAsset));
app.http("whoami", httpTrigger("whoami", handlers.whoami));
