import { test } from "node:test";
import assert from "node:assert/strict";
import { openApiDocument, openApiOperations } from "../../../src/http/openApiDocument.js";
import { renderApiDocs } from "../../../src/http/renderApiDocs.js";

test("every operation of the document is rendered, with $ref parameters resolved", () => {
  const html = renderApiDocs(openApiDocument());
  for (const [id] of openApiOperations()) assert.match(html, new RegExp(`id="${id}"`), id);
  assert.doesNotMatch(html, /<script|https?:\/\/cdn/i);
});

test("referenced parameters are shown by name", () => {
  const doc = {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    "x-error-codes": {},
    paths: { "/v1/x": { post: { operationId: "x", parameters: [{ $ref: "#/components/parameters/P" }], responses: { "202": { $ref: "#/components/responses/R" } } } } },
    components: { parameters: { P: { name: "Repeatability-Request-ID", in: "header", schema: { type: "string" } } }, responses: { R: { description: "accepted" } } },
  } as unknown as Parameters<typeof renderApiDocs>[0];
  const html = renderApiDocs(doc);
  assert.match(html, /Repeatability-Request-ID/);
  assert.match(html, /accepted/);
});
