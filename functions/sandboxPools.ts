// Thin registrations only: the name is the OpenAPI operationId; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { services } from "../src/composition.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { sandboxPoolHandlers } from "../src/http/sandboxPoolHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = sandboxPoolHandlers(services);

app.http("putSandboxPool", httpTrigger("putSandboxPool", handlers.putSandboxPool));
app.http("getSandboxPool", httpTrigger("getSandboxPool", handlers.getSandboxPool));
app.http("deleteSandboxPool", httpTrigger("deleteSandboxPool", handlers.deleteSandboxPool));
app.http("listSandboxPools", httpTrigger("listSandboxPools", handlers.listSandboxPools));
