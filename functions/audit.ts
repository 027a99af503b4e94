// Thin registrations only: the name is the OpenAPI operationId; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { loadedServices, services } from "../src/composition.js";
import { pruneAuditRecordsTimer } from "../src/domain/policy/pruneAuditRecordsTimer.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { auditHandlers } from "../src/http/auditHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = auditHandlers(services);

app.http("listAuditRecords", httpTrigger("listAuditRecords", handlers.listAuditRecords));

// Daily at 03:17 UTC: audit records older than AUDIT_RETENTION_DAYS (default 90) are removed, whole days at a time.
app.timer("pruneAuditRecords", {
  schedule: "0 17 3 * * *",
  handler: pruneAuditRecordsTimer(
    async () => {
      const loaded = await loadedServices();
      return { auditLog: loaded.auditLog, auditRetentionDays: loaded.configuration.auditRetentionDays };
    },
    () => services().log,
  ),
});
