// Thin registrations only: the name is the OpenAPI operationId.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { deleteSandboxPool, getSandboxPool, listSandboxPools, putSandboxPool } from "../src/http/sandboxPoolOperations.js";

app.http("putSandboxPool", httpTrigger("putSandboxPool", putSandboxPool));
app.http("getSandboxPool", httpTrigger("getSandboxPool", getSandboxPool));
app.http("deleteSandboxPool", httpTrigger("deleteSandboxPool", deleteSandboxPool));
app.http("listSandboxPools", httpTrigger("listSandboxPools", listSandboxPools));
