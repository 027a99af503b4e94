import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { GENERATED_TYPES_PATH, generatedClientTypes } from "../../../scripts/generateClientTypes.js";

test("the typed client's generated types match openapi/openapi.json (run `npm run generate` after changing it)", async () => {
  const expected = await generatedClientTypes();
  const actual = readFileSync(GENERATED_TYPES_PATH, "utf8");
  assert.ok(
    actual === expected,
    "clients/typescript/src/generated/api.ts is stale: run `npm run generate` and commit the result",
  );
});
