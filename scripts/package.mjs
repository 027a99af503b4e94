#!/usr/bin/env node
// `npm run package`: the zip Azure Functions runs (zip deploy / Flex Consumption "one deploy"), built from the checkout.
// Holds: package.json, host.json, the compiled app (dist/functions, dist/src without the local host and the
// emulators, which production never loads), the files it reads at run time (openapi/, policy/), and the
// production dependencies exactly as `npm ls --omit=dev` resolves them from node_modules (no dev dependencies,
// no .data/, no reference/, no tests). Usage: node scripts/package.mjs [--skip-build] [--out <zip path>]
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";

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
const files = new Set();
const add = (full) => files.add(full);

for (const name of ["package.json", "host.json"]) add(join(root, name));
for (const dir of ["dist/functions", "dist/src", "openapi", "policy"]) {
  for (const file of walk(
    join(root, dir),
    (full) => EXCLUDED_APP_DIRS.includes(zipName(full)) || /\.map$|\.d\.ts$|\.tsbuildinfo$/.test(full),
  ))
    add(file);
}

// Production dependencies as npm resolves them (hoisted and nested); each package's own nested
// node_modules is listed separately when it holds production packages, so it is skipped in the walk.
let listing;
try {
  listing = execFileSync(npm, ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
} catch (error) {
  // npm ls exits non-zero on peer-dependency warnings but still prints the tree.
  listing = error.stdout ?? "";
}
const packages = listing
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line.startsWith(join(root, "node_modules") + sep));
if (packages.length === 0) throw new Error("npm ls --omit=dev listed no production packages: run npm ci first");
for (const dir of packages) {
  for (const file of walk(
    dir,
    (full, entry) =>
      (entry.isDirectory() && entry.name === "node_modules") ||
      (entry.isFile() && SKIPPED_FILE.test(entry.name) && !/^licen[cs]e/i.test(entry.name)),
  ))
    add(file);
}

mkdirSync(dirname(out), { recursive: true });
const zip = new yazl.ZipFile();
const sorted = [...files].sort();
for (const file of sorted) zip.addFile(file, zipName(file), { mtime: statSync(file).mtime, mode: 0o100644 });
zip.end();
await pipeline(zip.outputStream, createWriteStream(out));
console.log(JSON.stringify({ zip: out, files: sorted.length, packages: packages.length, bytes: statSync(out).size }));
