import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ERROR_CODES } from "../../src/domain/errorCodes.js";
import { ERROR_STATUS } from "../../src/http/errorStatus.js";
import { functionsRouteFor, openApiDocument, openApiOperations } from "../../src/http/openApiDocument.js";
import { loadFunctionApp } from "../../src/localhost/loadFunctionApp.js";
import { packageRoot } from "../../src/packageRoot.js";

const registry = await loadFunctionApp();

test("openapi/openapi.json is a valid OpenAPI 3.1 document", async () => {
  const validator = new Validator();
  const result = await validator.validate(join(packageRoot(), "openapi", "openapi.json"));
  assert.equal(validator.version, "3.1");
  assert.deepEqual(result, { valid: true });
});

test("every operation has a registration of the same name, route and method, and vice versa", () => {
  const operations = openApiOperations();
  const http = registry.http();
  for (const [id, op] of operations) {
    const fn = registry.get(id);
    assert.ok(fn, `operation ${id} has no registration in functions/`);
    assert.equal(fn.name, id, "registration name must equal the operationId");
    assert.equal(fn.trigger.route, functionsRouteFor(op.path), `${id}: route`);
    assert.deepEqual(fn.trigger.methods, [op.method.toUpperCase()], `${id}: methods`);
  }
  for (const fn of http)
    assert.ok(operations.has(fn.name), `registration ${fn.name} is not an operation in openapi/openapi.json`);
});

test("every served route is under /api/v1 and in the document", () => {
  const paths = new Set(Object.keys(openApiDocument().paths ?? {}));
  for (const fn of registry.http()) {
    assert.match(String(fn.trigger.route), /^v1\//);
    assert.ok(
      paths.has(`/${String(fn.trigger.route)}`),
      `${fn.name}: /${String(fn.trigger.route)} not in the document`,
    );
  }
});

test("error codes: code list, status map, x-error-codes and the ErrorCode schema agree", () => {
  const doc = openApiDocument();
  const documented = doc["x-error-codes"];
  assert.deepEqual(Object.keys(documented).sort(), [...ERROR_CODES].sort());
  for (const code of ERROR_CODES)
    assert.equal(documented[code]?.status, ERROR_STATUS[code], `${code}: status differs between code and document`);
  const schema = doc.components?.schemas?.ErrorCode as { enum: string[] };
  assert.deepEqual([...schema.enum].sort(), [...ERROR_CODES].sort());
});

test("request bodies reject unknown fields (additionalProperties: false on every request body object)", () => {
  const doc = openApiDocument();
  const schemas = (doc.components?.schemas ?? {}) as Record<
    string,
    { type?: string; additionalProperties?: unknown; $ref?: string }
  >;
  for (const [id, op] of openApiOperations()) {
    const body = (
      op.operation.requestBody as
        | { content?: Record<string, { schema?: { $ref?: string; type?: string; additionalProperties?: unknown } }> }
        | undefined
    )?.content?.["application/json"]?.schema;
    if (!body) continue;
    const resolved = body.$ref ? schemas[body.$ref.split("/").pop()!] : body;
    assert.ok(resolved, `${id}: unresolved body schema`);
    if (resolved.type === "object")
      assert.equal(resolved.additionalProperties, false, `${id}: request body must set additionalProperties: false`);
  }
});

test("functions/ holds thin registrations only: no local-host code, no SDK imports", () => {
  const dir = join(packageRoot(), "functions");
  // The composition root is passed into the handler factories; timer handlers sit next to their use case.
  const allowed = (spec: string): boolean =>
    spec === "@azure/functions" ||
    spec === "../src/composition.js" ||
    /^\.\.\/src\/http\/[A-Za-z]+\.js$/.test(spec) ||
    /^\.\.\/src\/domain\/[A-Za-z]+\/[a-z][A-Za-z]*Timer\.js$/.test(spec);
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(dir, file), "utf8");
    const imports = [...text.matchAll(/(?:from|import)\s+"([^"]+)"/g)].map((m) => m[1]!);
    for (const spec of imports) {
      assert.ok(
        allowed(spec),
        `${file} imports ${spec}; registrations may import only @azure/functions, src/http, the composition root and timer handlers`,
      );
    }
  }
});

test("src/http never imports the composition root: handlers are factories that receive their services", () => {
  const dir = join(packageRoot(), "src", "http");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(dir, file), "utf8");
    const imports = [...text.matchAll(/(?:from|import)\s+"([^"]+)"/g)].map((m) => m[1]!);
    for (const spec of imports) assert.ok(!/composition(\.js)?$/.test(spec), `src/http/${file} imports ${spec}`);
  }
});
