import type { OpenApiDocument } from "./openApiDocument.js";

/** Files of the reference page served under `/api/v1/docs/assets/` (`getApiDocsAsset`). */
export const API_DOCS_ASSETS = {
  "scalar-standalone.js": {
    module: "@scalar/api-reference",
    file: "browser/standalone.js",
    contentType: "text/javascript; charset=utf-8",
  },
} as const;

/**
 * The page's Content-Security-Policy: scripts, styles, fonts and API calls
 * from this host only — the page can make no external request.
 */
export const API_DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * The API reference page: Scalar's standalone API reference (served from
 * the installed `@scalar/api-reference` package, never a CDN) rendering
 * `openapi.json` of this host, with its bearer-token field and "try it"
 * client calling the same host. Configured through the script element's
 * `data-configuration` so the page needs no inline script.
 */
export function renderApiDocs(doc: OpenApiDocument): string {
  const configuration = {
    url: "openapi.json",
    // Same host only: no request proxy, no web fonts, no telemetry.
    proxyUrl: "",
    withDefaultFonts: false,
    telemetry: false,
    hideClientButton: false,
    defaultOpenAllTags: true,
    authentication: { preferredSecurityScheme: "bearer" },
    metaData: { title: `${doc.info.title} API reference` },
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttribute(doc.info.title)} API reference</title>
</head>
<body>
<noscript>This page needs JavaScript. The machine-readable document is at <a href="openapi.json">openapi.json</a>.</noscript>
<script id="api-reference" data-url="openapi.json" data-configuration="${escapeAttribute(JSON.stringify(configuration))}"></script>
<script src="docs/assets/scalar-standalone.js"></script>
</body>
</html>
`;
}
