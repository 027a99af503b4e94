// Thin registrations only: HTTP names are OpenAPI operationIds; the handlers get the composition root's services.
import { app } from "@azure/functions";
import { loadedServices, services } from "../src/composition.js";
import { reconcileJobsTimer } from "../src/domain/jobs/reconcileJobsTimer.js";
import { httpTriggers } from "../src/http/httpOperation.js";
import { jobHandlers } from "../src/http/jobHandlers.js";

const httpTrigger = httpTriggers(services);
const handlers = jobHandlers(services);

app.http("submitJob", httpTrigger("submitJob", handlers.submitJob));
app.http("getJob", httpTrigger("getJob", handlers.getJob));
app.http("getJobLogs", httpTrigger("getJobLogs", handlers.getJobLogs));
app.http("cancelJob", httpTrigger("cancelJob", handlers.cancelJob));
app.http("listJobs", httpTrigger("listJobs", handlers.listJobs));

// Every 10 s: refresh unfinished jobs, capture finished jobs' logs, release their slots.
app.timer("reconcileJobs", {
  schedule: "*/10 * * * * *",
  handler: reconcileJobsTimer(
    async () => (await loadedServices()).jobs,
    () => services().log,
  ),
});
