// Thin registrations only: HTTP names are OpenAPI operationIds.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { cancelOperation, getOperation, listOperations, reconcileOperationsTimer } from "../src/http/operationOperations.js";

app.http("getOperation", httpTrigger("getOperation", getOperation));
app.http("listOperations", httpTrigger("listOperations", listOperations));
app.http("cancelOperation", httpTrigger("cancelOperation", cancelOperation));

// Every 10 s; one pass drives due operations for up to OPERATIONS_PASS_SECONDS.
app.timer("reconcileOperations", { schedule: "*/10 * * * * *", handler: reconcileOperationsTimer });
