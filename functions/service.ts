// Thin registrations only: the name is the OpenAPI operationId; route,
// method and auth come from the document through httpTrigger.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { getApiDocs, getOpenApiDocument, healthz, readyz, whoami } from "../src/http/serviceOperations.js";

app.http("healthz", httpTrigger("healthz", healthz));
app.http("readyz", httpTrigger("readyz", readyz));
app.http("getOpenApiDocument", httpTrigger("getOpenApiDocument", getOpenApiDocument));
app.http("getApiDocs", httpTrigger("getApiDocs", getApiDocs));
app.http("whoami", httpTrigger("whoami", whoami));
