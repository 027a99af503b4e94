// Thin registrations only: the name is the OpenAPI operationId.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { createCluster, deleteCluster, enableSandboxing, getCluster } from "../src/http/clusterOperations.js";

app.http("createCluster", httpTrigger("createCluster", createCluster));
app.http("getCluster", httpTrigger("getCluster", getCluster));
app.http("deleteCluster", httpTrigger("deleteCluster", deleteCluster));
app.http("enableSandboxing", httpTrigger("enableSandboxing", enableSandboxing));
