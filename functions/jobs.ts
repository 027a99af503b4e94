// Thin registrations only: HTTP names are OpenAPI operationIds.
import { app } from "@azure/functions";
import { httpTrigger } from "../src/http/httpOperation.js";
import { cancelJob, getJob, getJobLogs, listJobs, reconcileJobsTimer, submitJob } from "../src/http/jobOperations.js";

app.http("submitJob", httpTrigger("submitJob", submitJob));
app.http("getJob", httpTrigger("getJob", getJob));
app.http("getJobLogs", httpTrigger("getJobLogs", getJobLogs));
app.http("cancelJob", httpTrigger("cancelJob", cancelJob));
app.http("listJobs", httpTrigger("listJobs", listJobs));

// Every 10 s: refresh unfinished jobs, capture finished jobs' logs, release their slots.
app.timer("reconcileJobs", { schedule: "*/10 * * * * *", handler: reconcileJobsTimer });
