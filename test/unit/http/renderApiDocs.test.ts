import { test } from "node:test";
import assert from "node:assert/strict";
import { openApiDocument } from "../../../src/http/openApiDocument.js";
import { API_DOCS_CSP, renderApiDocs } from "../../../src/http/renderApiDocs.js";

test("the reference page loads Scalar from this host only, configured without an inline script", () => {
  const html = renderApiDocs(openApiDocument());
  const sources = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(sources, ["docs/assets/scalar-standalone.js"]);
  assert.doesNotMatch(html, /https?:\/\//, "no absolute URL: nothing from another host");
  // The configuration is an attribute, so the CSP needs no 'unsafe-inline' script.
  const config = /data-configuration="([^"]+)"/.exec(html)?.[1] ?? "";
  const parsed = JSON.parse(config.replace(/&quot;/g, '"')) as {
    url: string;
    proxyUrl: string;
    withDefaultFonts: boolean;
  };
  assert.equal(parsed.url, "openapi.json");
  assert.equal(parsed.proxyUrl, "");
  assert.equal(parsed.withDefaultFonts, false);
});

test("the page's CSP allows this host only", () => {
  assert.match(API_DOCS_CSP, /default-src 'none'/);
  assert.match(API_DOCS_CSP, /script-src 'self'(;|$)/);
  assert.match(API_DOCS_CSP, /connect-src 'self'(;|$)/);
  assert.doesNotMatch(API_DOCS_CSP, /https?:|\*/);
});
