import { readyz as readinessOf } from "../domain/service/readiness.js";
import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";
import { openApiDocument } from "./openApiDocument.js";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { SandboxError } from "../domain/sandboxError.js";
import { API_DOCS_ASSETS, API_DOCS_CSP, renderApiDocs } from "./renderApiDocs.js";

let docsHtml: string | undefined;
const assetCache = new Map<string, Promise<string>>();

/** The composition root's view the service routes need: its services, and the configuration problems found at start. */
export interface ServiceRoot {
  readonly services: ServicesSource<"readinessChecks">;
  /** Setting names only. */
  readonly configurationProblems: () => readonly string[];
}

/** Handlers of the service routes (health, readiness, the API document, whoami). */
export function serviceHandlers(root: ServiceRoot) {
  /** `healthz`: liveness; touches no dependency. */
  const healthz: OperationHandler = async () => ({ body: { status: "ok", version: openApiDocument().info.version } });

  /** `readyz`: 200 when configuration is valid and Table Storage answers, else 503 + Retry-After. */
  const readyz: OperationHandler = async () => {
    await root.services.load?.();
    const problems = root.configurationProblems();
    const checks = problems.length === 0 ? root.services().readinessChecks : [];
    const report = await readinessOf(checks, problems);
    return report.status === "ready"
      ? { body: report }
      : { status: 503, headers: { "retry-after": "10" }, body: report };
  };

  /** `getOpenApiDocument`: the document itself. */
  const getOpenApiDocument: OperationHandler = async () => ({ body: openApiDocument() });

  /** `getApiDocs`: the HTML reference. */
  const getApiDocs: OperationHandler = async () => {
    docsHtml ??= renderApiDocs(openApiDocument());
    return {
      text: docsHtml,
      contentType: "text/html; charset=utf-8",
      headers: { "content-security-policy": API_DOCS_CSP },
    };
  };

  /** `getApiDocsAsset`: the reference page's script, read from the installed package (cached). */
  const getApiDocsAsset: OperationHandler = async ({ params }) => {
    const name = params.asset ?? "";
    const asset = (
      API_DOCS_ASSETS as Record<string, (typeof API_DOCS_ASSETS)[keyof typeof API_DOCS_ASSETS] | undefined>
    )[name];
    if (!asset) throw new SandboxError("NotFound", `No docs asset "${name}".`, { target: "asset" });
    let text = assetCache.get(name);
    if (!text) {
      // The package exports no subpath for its browser bundle: find it beside its main entry (dist/index.js).
      const main = createRequire(import.meta.url).resolve(asset.module);
      text = readFile(join(dirname(main), asset.file), "utf8");
      assetCache.set(name, text);
      text.catch(() => assetCache.delete(name));
    }
    return {
      text: await text,
      contentType: asset.contentType,
      headers: { "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff" },
    };
  };

  /** `whoami`: the caller's principal, so portals and bots can check their token. */
  const whoami: OperationHandler = async ({ principal }) => ({
    body: {
      id: principal.id,
      name: principal.name,
      team: principal.team ?? null,
      roles: principal.roles,
      appId: principal.appId ?? null,
    },
  });

  return { healthz, readyz, getOpenApiDocument, getApiDocs, getApiDocsAsset, whoami };
}
