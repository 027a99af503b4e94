// Thin registrations only: the name is the OpenAPI operationId; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { services } from "../src/composition.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { clusterHandlers } from "../src/http/clusterHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = clusterHandlers(services);

app.http("createCluster", httpTrigger("createCluster", handlers.createCluster));
app.http("getCluster", httpTrigger("getCluster", handlers.getCluster));
app.http("deleteCluster", httpTrigger("deleteCluster", handlers.deleteCluster));
app.http("enableSandboxing", httpTrigger("enableSandboxing", handlers.enableSandboxing));
