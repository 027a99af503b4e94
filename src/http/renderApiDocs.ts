import type { OpenAPIV3_1 } from "openapi-types";
import type { OpenApiDocument } from "./openApiDocument.js";
import { HTTP_METHODS } from "./openApiDocument.js";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Resolves a local `#/…` reference of the document (parameters, responses, …). */
function resolve<T>(doc: OpenApiDocument, value: T | { $ref: string }): T {
  if (value && typeof value === "object" && "$ref" in value && typeof value.$ref === "string") {
    let node: unknown = doc;
    for (const part of value.$ref.replace(/^#\//, "").split("/")) node = (node as Record<string, unknown> | undefined)?.[part];
    return (node ?? {}) as T;
  }
  return value as T;
}

function schemaText(schema: unknown): string {
  return escapeHtml(JSON.stringify(schema, null, 2));
}

/**
 * Renders the OpenAPI document as one self-contained HTML page (inline CSS,
 * no scripts, no external assets), so it works offline and under a strict CSP.
 */
export function renderApiDocs(doc: OpenApiDocument): string {
  const sections: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item?.[method];
      if (!op) continue;
      const params = [...(item?.parameters ?? []), ...(op.parameters ?? [])].map((p) => resolve<OpenAPIV3_1.ParameterObject>(doc, p));
      const body = (op.requestBody ? resolve<OpenAPIV3_1.RequestBodyObject>(doc, op.requestBody) : undefined)?.content?.["application/json"]?.schema;
      const responses = Object.entries(op.responses ?? {}).map(([code, r]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(resolve<OpenAPIV3_1.ResponseObject>(doc, r).description ?? "")}</li>`);
      const auth = (op.security ?? doc.security ?? []).length > 0 ? "Bearer token" : "none";
      sections.push(`<section id="${escapeHtml(op.operationId ?? "")}">
<h2><span class="m ${method}">${method.toUpperCase()}</span> <code>/api${escapeHtml(path)}</code></h2>
<p><b>${escapeHtml(op.operationId ?? "")}</b> — ${escapeHtml(op.summary ?? "")}</p>
<p>Authentication: ${auth}</p>
${params.length > 0 ? `<h3>Parameters</h3><ul>${params.map((p) => `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required ? ", required" : ""}) ${escapeHtml(p.description ?? "")}</li>`).join("")}</ul>` : ""}
${body ? `<h3>Body</h3><pre>${schemaText(body)}</pre>` : ""}
<h3>Responses</h3><ul>${responses.join("")}</ul>
</section>`);
    }
  }
  const codes = Object.entries(doc["x-error-codes"]).map(([code, v]) => `<tr><td><code>${escapeHtml(code)}</code></td><td>${v.status}</td><td>${escapeHtml(v.description)}</td></tr>`);
  const schemas = Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => `<h3 id="schema-${escapeHtml(name)}">${escapeHtml(name)}</h3><pre>${schemaText(s)}</pre>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1b1b1b}
code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:.8em;overflow:auto}
.m{display:inline-block;min-width:4em;text-align:center;color:#fff;border-radius:4px;padding:0 .4em}
.get{background:#2b6cb0}.put{background:#b7791f}.post{background:#2f855a}.delete{background:#c53030}.patch{background:#6b46c1}
section{border-top:1px solid #ddd;padding-top:.5em}table{border-collapse:collapse}td{border:1px solid #ddd;padding:.2em .5em}</style></head>
<body><h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>${escapeHtml(doc.info.description ?? "")}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a></p>
${sections.join("\n")}
<h2>Error codes</h2><table><tr><th>code</th><th>status</th><th>meaning</th></tr>${codes.join("")}</table>
<h2>Schemas</h2>${schemas.join("\n")}
</body></html>`;
}
