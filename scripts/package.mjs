#!/usr/bin/env node
// `npm run package`: the zip Azure Functions runs (zip deploy / Flex Consumption "one deploy"), built from the checkout.
// Holds: package.json, host.json, the compiled app (dist/functions, dist/src without the local host and the
// emulators, which production never loads), the files it reads at run time (openapi/, policy/), and the
// production dependency closure of package-lock.json copied from node_modules (no dev dependencies, no .data/,
// no reference/, no tests; asset-only packages reduced to the files served). Needs an installed node_modules
// matching the lockfile (`npm ci`). Usage: node scripts/package.mjs [--skip-build] [--out <zip path>]
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import yazl from "yazl";
import { productionPackages } from "./productionPackages.mjs";

const root = resolve(new URL("..", import.meta.url).pathname);
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = outIndex >= 0 ? resolve(args[outIndex + 1] ?? "") : join(root, "dist", "package", "aks-pod-sandbox.zip");

/** Paths (relative to the root, `/`-separated) production never loads. */
const EXCLUDED_APP_DIRS = ["dist/src/emulators", "dist/src/localhost"];
/** Files Node never loads at run time: type declarations, source maps, docs. Licenses stay. */
const SKIPPED_FILE = /(\.d\.[cm]?ts|\.map|\.md|\.markdown|\.tsbuildinfo)$/i;

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
if (!args.includes("--skip-build")) execFileSync(npm, ["run", "-s", "build"], { cwd: root, stdio: "inherit" });

function* walk(dir, skip) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (skip(full, entry)) continue;
    if (entry.isDirectory()) yield* walk(full, skip);
    else if (entry.isFile()) yield full;
  }
}

const zipName = (full) => relative(root, full).split(sep).join("/");
/** Zip entry name → file on disk (a linked workspace's files are stored under its node_modules path). */
const files = new Map();
const add = (full) => files.set(zipName(full), full);

for (const name of ["package.json", "host.json"]) add(join(root, name));
for (const dir of ["dist/functions", "dist/src", "openapi", "policy"]) {
  for (const file of walk(
    join(root, dir),
    (full) => EXCLUDED_APP_DIRS.includes(zipName(full)) || /\.map$|\.d\.ts$|\.tsbuildinfo$/.test(full),
  ))
    add(file);
}

// Production dependencies: the closure package-lock.json gives (scripts/productionPackages.mjs), copied from
// node_modules. Each package's own nested node_modules is a package of its own in that list, so it is skipped in
// the walk. Packages the app uses only for a static file (the API reference page's standalone script) keep
// package.json, their licenses and exactly the files the app resolves and reads; their dependencies (the page
// renderer's build tree: Vue, TypeScript…) are not followed.
const { API_DOCS_ASSETS } = await import(pathToFileURL(join(root, "dist", "src", "http", "renderApiDocs.js")).href);
const requireFromRoot = createRequire(join(root, "package.json"));
/** Package name → files kept (relative to the package folder, `/`-separated). */
const assetOnly = new Map();
for (const asset of Object.values(API_DOCS_ASSETS)) {
  // As src/http/serviceHandlers.ts finds it: the package's main entry (which must exist to resolve), and the
  // asset beside it.
  const main = requireFromRoot.resolve(asset.module);
  // Node resolves to real paths (node_modules may be a link): compare with the package folder's real path.
  const dir = realpathSync(join(root, "node_modules", ...asset.module.split("/")));
  const kept = assetOnly.get(asset.module) ?? new Set(["package.json"]);
  for (const file of [main, join(dirname(main), asset.file)]) kept.add(relative(dir, file).split(sep).join("/"));
  assetOnly.set(asset.module, kept);
}

const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const packages = productionPackages(lock, { prune: assetOnly.keys() });
let copied = 0;
for (const pkg of packages) {
  const dir = join(root, ...pkg.source.split("/"));
  let installed;
  try {
    installed = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  } catch {
    if (pkg.optional) continue; // an optional dependency not installed on this platform
    throw new Error(`${pkg.path} is not installed: run npm ci first`);
  }
  if (pkg.version !== undefined && installed.version !== pkg.version)
    throw new Error(`${pkg.path} is ${installed.version}, package-lock.json says ${pkg.version}: run npm ci first`);
  copied++;
  const target = join(root, ...pkg.path.split("/"));
  const addAs = (file) => files.set(zipName(join(target, relative(dir, file))), file);
  if (pkg.pruned) {
    if (pkg.path !== `node_modules/${pkg.name}`) throw new Error(`${pkg.path}: only a top-level package is pruned`);
    const kept = assetOnly.get(pkg.name);
    for (const name of readdirSync(dir)) if (/^licen[cs]e/i.test(name)) kept.add(name);
    for (const name of kept) addAs(join(dir, ...name.split("/")));
    continue;
  }
  for (const file of walk(
    dir,
    (full, entry) =>
      (entry.isDirectory() && entry.name === "node_modules") ||
      (entry.isFile() && SKIPPED_FILE.test(entry.name) && !/^licen[cs]e/i.test(entry.name)),
  ))
    addAs(file);
}

mkdirSync(dirname(out), { recursive: true });
const zip = new yazl.ZipFile();
const sorted = [...files.keys()].sort();
for (const name of sorted) {
  const file = files.get(name);
  zip.addFile(file, name, { mtime: statSync(file).mtime, mode: 0o100644 });
}
zip.end();
await pipeline(zip.outputStream, createWriteStream(out));
console.log(JSON.stringify({ zip: out, files: sorted.length, packages: copied, bytes: statSync(out).size }));
