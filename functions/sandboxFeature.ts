// Thin registrations only: the name is the OpenAPI operationId.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { getSandboxFeature, registerSandboxFeature } from "../src/http/sandboxFeatureOperations.js";

app.http("getSandboxFeature", httpTrigger("getSandboxFeature", getSandboxFeature));
app.http("registerSandboxFeature", httpTrigger("registerSandboxFeature", registerSandboxFeature));
