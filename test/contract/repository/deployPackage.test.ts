// test: end-to-end (`npm run package` builds the zip, which runs extracted)
// `npm run package` builds the zip Azure runs; extracted alone in a temp dir, its entry points register
// every operation of the OpenAPI document through @azure/functions' worker path, its node_modules is exactly the
// lockfile's production closure (no dev deps), and the docs page's script is served from its pruned package.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { installFunctionsCore } from "../../../src/localhost/functionsCoreShim.js";
import type { FunctionRegistry } from "../../../src/localhost/functionRegistry.js";
import { packageRoot } from "../../../src/packageRoot.js";
import { invokeViaWorkerPath } from "../../support/workerPath.js";
import { API_DOCS_ASSETS } from "../../../src/http/renderApiDocs.js";
import { productionPackages, type PackageLock, type ProductionPackage } from "../../../scripts/productionPackages.mjs";

const root = packageRoot();

/** Newest modification time under a folder (files only). */
function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) max = Math.max(max, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return max;
}

/** Extracts every entry of the zip into `dir`; returns the entry names. */
async function extract(zipPath: string, dir: string): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(zipPath, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))),
  );
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", resolve);
    zip.on("entry", (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      if (entry.fileName.endsWith("/")) return zip.readEntry();
      const target = join(dir, entry.fileName);
      assert.ok(target.startsWith(dir), `entry stays inside: ${entry.fileName}`);
      mkdirSync(dirname(target), { recursive: true });
      zip.openReadStream(entry, (e, stream) => {
        if (e) return reject(e);
        pipeline(stream, createWriteStream(target)).then(() => zip.readEntry(), reject);
      });
    });
    zip.readEntry();
  });
  return names;
}

describe("npm run package: the deployable zip", () => {
  let work: string;
  let app: string;
  let entries: string[];
  let registry: FunctionRegistry;
  let production: ProductionPackage[];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-package-"));
    app = join(work, "wwwroot");
    const zipPath = join(work, "app.zip");
    // Reuse a build that is newer than every source file; build otherwise (the script's default).
    let fresh = false;
    try {
      fresh =
        Math.min(newest(join(root, "dist", "functions")), newest(join(root, "dist", "src"))) >
        Math.max(newest(join(root, "src")), newest(join(root, "functions")));
    } catch {
      fresh = false;
    }
    execFileSync(
      process.execPath,
      [join(root, "scripts", "package.mjs"), "--out", zipPath, ...(fresh ? ["--skip-build"] : [])],
      { cwd: root, stdio: "pipe" },
    );
    entries = await extract(zipPath, app);
    // The same closure the script copies, asset-only packages (the API reference page's script) pruned.
    production = productionPackages(JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as PackageLock, {
      prune: Object.values(API_DOCS_ASSETS).map((asset) => asset.module),
    });
    // Load the extracted entry points (package.json `main`) as the Functions worker does, with its own node_modules.
    registry = installFunctionsCore();
    const main = (JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as { main: string }).main;
    assert.equal(main, "dist/functions/*.js");
    for (const file of readdirSync(join(app, "dist", "functions"))
      .filter((f) => f.endsWith(".js"))
      .sort()) {
      await import(pathToFileURL(join(app, "dist", "functions", file)).href);
    }
    // functions/httpStreaming.ts turns HTTP streaming on (the Azure host then moves bodies through the
    // worker's HTTP proxy); the RPC path driven here is the one the library uses with streaming off.
    const packaged = createRequire(join(app, "package.json"))("@azure/functions") as {
      app: { setup(options: { enableHttpStream: boolean }): void };
    };
    packaged.app.setup({ enableHttpStream: false });
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("holds compiled code, production dependencies and host.json; no dev dependencies, .data/, reference/, tests or emulators", () => {
    const names = new Set(entries);
    for (const required of [
      "package.json",
      "host.json",
      "openapi/openapi.json",
      "policy/policy.schema.json",
      "dist/functions/service.js",
      "dist/src/composition.js",
    ]) {
      assert.ok(names.has(required), `${required} in the zip`);
    }
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(
        entries.some((e) => e.startsWith(`node_modules/${dep}/`)),
        `production dependency ${dep}`,
      );
    // A dev dependency may come along only when a production package needs it too (@types/node does, nested
    // under @kubernetes/client-node): the lockfile's production closure says which.
    const neededInProduction = (dep: string) => production.some((p) => p.path === `node_modules/${dep}`);
    for (const dev of Object.keys(pkg.devDependencies).filter((d) => !neededInProduction(d))) {
      assert.ok(!entries.some((e) => e.startsWith(`node_modules/${dev}/`)), `dev dependency ${dev} left out`);
    }
    for (const prefix of [
      ".data/",
      "reference/",
      "test/",
      "src/",
      "dist/src/emulators/",
      "dist/src/localhost/",
      "node_modules/.bin/",
      "bench/",
    ]) {
      assert.ok(!entries.some((e) => e.startsWith(prefix)), `nothing under ${prefix}`);
    }
    assert.ok(
      !entries.some((e) => !e.startsWith("node_modules/") && e.endsWith(".ts")),
      "no TypeScript sources of the app",
    );
  });

  test("node_modules holds exactly the production closure of package-lock.json; asset-only packages only the files served", () => {
    /** Package folders in the zip: node_modules/<name> or node_modules/@scope/<name>, nested ones included. */
    const packageDirs = new Set(
      entries
        .filter((e) => e.startsWith("node_modules/") && e.endsWith("/package.json"))
        .map((e) => e.slice(0, -"/package.json".length))
        .filter((dir) => /^node_modules\/((@[^/]+\/)?[^/]+\/node_modules\/)*(@[^/]+\/)?[^/]+$/.test(dir)),
    );
    const expected = production.filter((p) => !p.optional || existsSync(join(root, p.source, "package.json")));
    assert.deepEqual(
      expected.map((p) => p.path).filter((path) => !packageDirs.has(path)),
      [],
      "production packages missing from the zip",
    );
    assert.deepEqual(
      [...packageDirs].filter((dir) => !expected.some((p) => p.path === dir)).sort(),
      [],
      "packages in the zip that are not production dependencies",
    );
    const pruned = production.filter((p) => p.pruned);
    assert.deepEqual(
      pruned.map((p) => p.name),
      [...new Set(Object.values(API_DOCS_ASSETS).map((asset) => asset.module))],
    );
    for (const pkg of pruned) {
      const kept = entries
        .filter((e) => e.startsWith(`${pkg.path}/`) && !e.endsWith("/"))
        .map((e) => e.slice(pkg.path.length + 1));
      const assets = Object.values(API_DOCS_ASSETS).filter((asset) => asset.module === pkg.name);
      for (const asset of assets)
        assert.ok(
          kept.some((f) => f.endsWith(`/${asset.file}`)),
          `${pkg.name}: ${asset.file}`,
        );
      // package.json, the main entry (which must exist for the package to resolve), the served files, licenses.
      assert.deepEqual(
        kept.filter(
          (f) => f !== "package.json" && !/^licen[cs]e/i.test(f) && !assets.some((a) => f.endsWith(`/${a.file}`)),
        ),
        [
          (JSON.parse(readFileSync(join(app, pkg.path, "package.json"), "utf8")) as { main: string }).main.replace(
            /^\.\//,
            "",
          ),
        ],
        `${pkg.name} holds only the files served`,
      );
    }
    // The page renderer's own dependencies stay out (Vue, and TypeScript, which it lists as an optional peer).
    for (const dep of ["vue", "typescript", "@scalar/api-client"]) {
      assert.ok(!entries.some((e) => e.startsWith(`node_modules/${dep}/`)), `${dep} left out`);
    }
  });

  test("its entry points register every operation of the OpenAPI document, and they answer through the worker path", async () => {
    const doc = JSON.parse(readFileSync(join(app, "openapi", "openapi.json"), "utf8")) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const operationIds = Object.values(doc.paths).flatMap((item) =>
      Object.values(item)
        .map((op) => op.operationId)
        .filter((id): id is string => typeof id === "string"),
    );
    assert.ok(operationIds.length > 20, `${operationIds.length} operations`);
    const registered = new Set(registry.http().map((f) => f.name));
    assert.deepEqual(
      operationIds.filter((id) => !registered.has(id)),
      [],
      "operations without a registration",
    );
    assert.deepEqual(
      [...registered].filter((name) => !operationIds.includes(name)),
      [],
      "HTTP registrations the document does not list",
    );

    const health = await invokeViaWorkerPath(registry, "healthz", "http://localhost:7071/api/v1/healthz");
    assert.equal(health.status, 200);
    // The document is read from the package itself (packageRoot of the extracted code).
    const served = await invokeViaWorkerPath(
      registry,
      "getOpenApiDocument",
      "http://localhost:7071/api/v1/openapi.json",
    );
    assert.equal(served.status, 200);
    assert.equal((JSON.parse(served.body) as { openapi: string }).openapi, "3.1.0");
  });

  test("the API reference page and its script are served from the zip through the worker path", async () => {
    const page = await invokeViaWorkerPath(registry, "getApiDocs", "http://localhost:7071/api/v1/docs");
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="docs\/assets\/scalar-standalone\.js"><\/script>/);
    for (const [name, asset] of Object.entries(API_DOCS_ASSETS)) {
      const served = await invokeViaWorkerPath(
        registry,
        "getApiDocsAsset",
        `http://localhost:7071/api/v1/docs/assets/${name}`,
        {},
        { asset: name },
      );
      assert.equal(served.status, 200, `${name}: ${served.body.slice(0, 200)}`);
      assert.equal(served.headers["content-type"], asset.contentType);
      // Byte for byte the installed file (the extracted code resolves the package from the zip's own node_modules).
      const installed = readFileSync(
        join(dirname(createRequire(join(root, "package.json")).resolve(asset.module)), asset.file),
        "utf8",
      );
      assert.equal(served.body.length, installed.length);
      assert.ok(served.body === installed, `${name} matches the installed file`);
    }
  });
});
