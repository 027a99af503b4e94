// `npm run package` builds the zip Azure runs; extracted alone in a temp dir, its entry points register
// every operation of the OpenAPI document through @azure/functions' worker path, and it holds no dev deps.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
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
    // A dev dependency may come along only when a production package needs it too (@types/node does; so
    // does typescript, a dependency of the API reference page's renderer): npm's production tree says which.
    let production = "";
    try {
      production = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
        cwd: root,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      production = (error as { stdout?: string }).stdout ?? "";
    }
    const neededInProduction = (dep: string) =>
      production.split("\n").some((line) => line.trim() === join(root, "node_modules", dep));
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
});
