// Thin registrations only: the name is the OpenAPI operationId.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { listAuditRecords } from "../src/http/auditOperations.js";

app.http("listAuditRecords", httpTrigger("listAuditRecords", listAuditRecords));
