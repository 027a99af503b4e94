import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

// Benchmarks may use the test harnesses (test/support); tests, the product
// and scripts never import a benchmark: `npm test` must not depend on bench/.
const root = new URL("../../../", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : /\.(ts|mts|mjs|js)$/.test(name) ? [full] : [];
  });
}

test("nothing in src, functions, test or scripts imports from bench/", () => {
  const importsBench = /(?:from\s+|import\s*\(\s*)["'][^"']*\/bench\//;
  const offenders = ["src", "functions", "test", "scripts"]
    .flatMap((dir) => files(join(root, dir)))
    .filter((file) => importsBench.test(readFileSync(file, "utf8")))
    .map((file) => relative(root, file));
  assert.deepEqual(offenders, []);
});
