import { readyz as readinessOf } from "../domain/service/readiness.js";
import { configurationProblems, services } from "../composition.js";
import type { OperationHandler } from "./httpOperation.js";
import { openApiDocument } from "./openApiDocument.js";
import { renderApiDocs } from "./renderApiDocs.js";

/** `healthz`: liveness; touches no dependency. */
export const healthz: OperationHandler = async () => ({ body: { status: "ok", version: openApiDocument().info.version } });

/** `readyz`: 200 when configuration is valid and Table Storage answers, else 503 + Retry-After. */
export const readyz: OperationHandler = async () => {
  const problems = configurationProblems();
  const checks = problems.length === 0 ? services().readinessChecks : [];
  const report = await readinessOf(checks, problems);
  return report.status === "ready" ? { body: report } : { status: 503, headers: { "retry-after": "10" }, body: report };
};

/** `getOpenApiDocument`: the document itself. */
export const getOpenApiDocument: OperationHandler = async () => ({ body: openApiDocument() });

let docsHtml: string | undefined;
/** `getApiDocs`: the HTML reference. */
export const getApiDocs: OperationHandler = async () => {
  docsHtml ??= renderApiDocs(openApiDocument());
  return { text: docsHtml, contentType: "text/html; charset=utf-8", headers: { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" } };
};

/** `whoami`: the caller's principal, so portals and bots can check their token. */
export const whoami: OperationHandler = async ({ principal }) => ({
  body: { id: principal.id, name: principal.name, team: principal.team ?? null, roles: principal.roles, appId: principal.appId ?? null },
});
