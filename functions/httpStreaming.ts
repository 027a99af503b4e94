// HTTP streaming (Functions host 4.28+): responses such as a followed job log
// (getJobLogs?follow=true) are sent as they are produced, not buffered whole.
// Must run before the host locks setup, i.e. while the app's modules load.
import { app } from "@azure/functions";

app.setup({ enableHttpStream: true });
