// Thin registrations only: HTTP names are OpenAPI operationIds.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { startIsolationCheck } from "../src/http/isolationCheckOperations.js";

app.http("startIsolationCheck", httpTrigger("startIsolationCheck", startIsolationCheck));
