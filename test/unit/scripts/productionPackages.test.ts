// The production closure scripts/package.mjs copies, from small synthetic lockfiles: dev dependencies out, nested
// node_modules resolved as Node resolves them, optional dependencies and peers, workspaces, pruned packages.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { productionPackages, type PackageLock } from "../../../scripts/productionPackages.mjs";

const paths = (lock: PackageLock, prune: string[] = []) => productionPackages(lock, { prune }).map((p) => p.path);

describe("productionPackages", () => {
  test("follows dependencies from the root; dev dependencies and what only they need stay out", () => {
    const lock: PackageLock = {
      packages: {
        "": { dependencies: { a: "1" }, devDependencies: { tool: "1" } },
        "node_modules/a": { version: "1.0.0", dependencies: { b: "^2" } },
        "node_modules/b": { version: "2.0.0" },
        "node_modules/tool": { version: "1.0.0", dev: true, dependencies: { helper: "1" } },
        "node_modules/helper": { version: "1.0.0", dev: true },
        "node_modules/unused": { version: "1.0.0", extraneous: true },
      },
    };
    const closure = productionPackages(lock);
    assert.deepEqual(
      closure.map((p) => p.path),
      ["node_modules/a", "node_modules/b"],
    );
    assert.deepEqual(closure[0], {
      name: "a",
      version: "1.0.0",
      path: "node_modules/a",
      source: "node_modules/a",
      optional: false,
      pruned: false,
    });
  });

  test("resolves the nearest node_modules first, as Node does (nested versions, scoped names)", () => {
    const lock: PackageLock = {
      packages: {
        "": { dependencies: { a: "1", "@s/c": "1" } },
        "node_modules/a": { version: "1.0.0", dependencies: { b: "^1", "@s/c": "1" } },
        "node_modules/a/node_modules/b": { version: "1.0.0", dependencies: { d: "1" } },
        "node_modules/b": { version: "2.0.0" },
        "node_modules/@s/c": { version: "1.0.0", dependencies: { b: "^2" } },
        "node_modules/d": { version: "1.0.0" },
      },
    };
    // node_modules/b (2.0.0) only through @s/c; a gets its nested b 1.0.0, whose d resolves two levels up.
    assert.deepEqual(paths(lock), [
      "node_modules/@s/c",
      "node_modules/a",
      "node_modules/a/node_modules/b",
      "node_modules/b",
      "node_modules/d",
    ]);
    const nested: PackageLock = {
      packages: { ...lock.packages, "": { dependencies: { a: "1" } }, "node_modules/@s/c": { version: "1.0.0" } },
    };
    assert.deepEqual(paths(nested), [
      "node_modules/@s/c",
      "node_modules/a",
      "node_modules/a/node_modules/b",
      "node_modules/d",
    ]);
  });

  test("optional dependencies are followed when present and skipped when not in the lockfile; non-optional peers are followed", () => {
    const lock: PackageLock = {
      packages: {
        "": { dependencies: { a: "1" }, optionalDependencies: { native: "1" } },
        "node_modules/a": {
          version: "1.0.0",
          optionalDependencies: { "@x/linux-x64": "1", "@x/win32-x64": "1" },
          peerDependencies: { peer: "1", maybe: "1" },
          peerDependenciesMeta: { maybe: { optional: true } },
        },
        "node_modules/@x/linux-x64": { version: "1.0.0", optional: true },
        "node_modules/native": { version: "1.0.0", optional: true },
        "node_modules/peer": { version: "1.0.0" },
        // Installed for a dev tool only: an optional peer of a production package is not followed.
        "node_modules/maybe": { version: "1.0.0", devOptional: true },
      },
    };
    const closure = productionPackages(lock);
    assert.deepEqual(
      closure.map((p) => [p.path, p.optional]),
      [
        ["node_modules/@x/linux-x64", true],
        ["node_modules/a", false],
        ["node_modules/native", true],
        ["node_modules/peer", false],
      ],
    );
  });

  test("a missing required dependency, or one marked dev, is an error", () => {
    assert.throws(
      () => productionPackages({ packages: { "": { dependencies: { gone: "1" } } } }),
      /the root package needs gone, which package-lock\.json does not hold/,
    );
    assert.throws(
      () =>
        productionPackages({
          packages: { "": { dependencies: { a: "1" } }, "node_modules/a": { version: "1.0.0", dev: true } },
        }),
      /node_modules\/a is marked dev/,
    );
    assert.throws(() => productionPackages({ packages: {} }), /no `packages` map/);
  });

  test("workspaces: followed only when a dependency links to one, stored under the link's path", () => {
    const lock: PackageLock = {
      packages: {
        "": { dependencies: { "@app/lib": "*" } },
        "node_modules/@app/lib": { resolved: "packages/lib", link: true },
        "node_modules/@app/cli": { resolved: "packages/cli", link: true },
        "packages/lib": { name: "@app/lib", version: "0.1.0", dependencies: { a: "1", b: "1" } },
        "packages/lib/node_modules/a": { version: "2.0.0" },
        "node_modules/a": { version: "1.0.0" },
        "node_modules/b": { version: "1.0.0" },
        "packages/cli": { name: "@app/cli", version: "0.1.0", dependencies: { commander: "1" } },
        "node_modules/commander": { version: "1.0.0" },
      },
    };
    assert.deepEqual(
      productionPackages(lock).map((p) => [p.path, p.source, p.version]),
      [
        ["node_modules/@app/lib", "packages/lib", "0.1.0"],
        ["node_modules/@app/lib/node_modules/a", "packages/lib/node_modules/a", "2.0.0"],
        ["node_modules/b", "node_modules/b", "1.0.0"],
      ],
    );
  });

  test("a pruned package is kept without its dependencies; what another package needs too stays", () => {
    const lock: PackageLock = {
      packages: {
        "": { dependencies: { docs: "1", app: "1" } },
        "node_modules/docs": { version: "1.0.0", dependencies: { vue: "3", shared: "1" } },
        "node_modules/vue": { version: "3.0.0", dependencies: { compiler: "3" } },
        "node_modules/compiler": { version: "3.0.0" },
        "node_modules/shared": { version: "1.0.0" },
        "node_modules/app": { version: "1.0.0", dependencies: { shared: "1" } },
      },
    };
    assert.deepEqual(paths(lock), [
      "node_modules/app",
      "node_modules/compiler",
      "node_modules/docs",
      "node_modules/shared",
      "node_modules/vue",
    ]);
    const closure = productionPackages(lock, { prune: ["docs"] });
    assert.deepEqual(
      closure.map((p) => [p.path, p.pruned]),
      [
        ["node_modules/app", false],
        ["node_modules/docs", true],
        ["node_modules/shared", false],
      ],
    );
  });
});
