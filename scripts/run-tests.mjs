#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node:test through tsx.
// Node 20's --test does not expand globs, so the files are listed here.
// Usage: npm test [-- <path filter substring> ...] [--isolated] [--list (how files share processes)]
// test/reliability/ (fuzzing, faults, outages, chaos: minutes, not seconds) is
// left out; `npm run test:reliability` (`--reliability`) runs only it, one file at a time.
//
// Test files share processes: generated entry files import several of them,
// so Node, tsx and the module graph start a few times instead of once per
// file (measured: the unit tests take 59 s of CPU as 54 processes, 11 s as
// one; 18 adapter and contract files 67 s as processes, 24 s shared). A file
// that changes process-wide state keeps its own process: one that writes
// process.env or globalThis, registers functions with the global
// @azure/functions app, or has root-level hooks (which would wrap every file
// of a shared process), or says so in a line `// test: own process (why)`.
// Unit tests share one process. The other files keep a process each unless
// TEST_BUNDLES=n deals them over n shared processes (opt-in: a few of them still
// interfere when sharing, e.g. the local stack's host-process and access-log
// tests). `--isolated` gives every file its own process.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("..", import.meta.url).pathname;
const reliability = process.argv.includes("--reliability");
const isolated = process.argv.includes("--isolated");
const listOnly = process.argv.includes("--list");
const filters = process.argv.slice(2).filter((a) => !["--reliability", "--isolated", "--list"].includes(a));
const reliabilityDir = join("test", "reliability");
const unitDir = join("test", "unit");

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith(".test.ts")) out.push(relative(root, full));
  }
  return out;
}

const files = collect(join(root, "test"))
  .filter((f) => f.startsWith(reliabilityDir) === reliability)
  .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

/** Why a file needs a process of its own, or undefined when it can share one. */
function ownProcessReason(file) {
  const text = readFileSync(join(root, file), "utf8");
  if (/^\/\/ test: own process/m.test(text)) return "marked";
  if (/process\.env(\.\w+|\[[^\]]+\])\s*=[^=]|Object\.assign\(process\.env|delete process\.env/.test(text))
    return "writes process.env";
  if (/globalThis(\.\w+|\[[^\]]+\])\s*=[^=]|\bmock\.(method|module|timers)/.test(text)) return "patches globals";
  if (/\b(loadFunctionApp|installFunctionsCore)\(/.test(text)) return "registers functions with the global app";
  if (/^(before|after|beforeEach|afterEach)\(/m.test(text)) return "root-level hooks";
  return undefined;
}

let bundleDir;
const bundle = (name, members) => {
  bundleDir ??= mkdtempSync(join(tmpdir(), "aks-pod-sandbox-tests-"));
  const entry = join(bundleDir, `${name}.test.mjs`);
  // Static imports: the files register their tests in this (sorted) order.
  writeFileSync(entry, members.map((f) => `import ${JSON.stringify(pathToFileURL(join(root, f)).href)};\n`).join(""));
  return entry;
};
let run = files;
if (!isolated && !reliability) {
  const own = files.filter((f) => ownProcessReason(f) !== undefined);
  const unit = files.filter((f) => f.startsWith(unitDir + "/") && !own.includes(f));
  const shared = files.filter((f) => !f.startsWith(unitDir + "/") && !own.includes(f));
  const lanes = Math.max(0, Number(process.env.TEST_BUNDLES ?? 0));
  const dealt = Array.from({ length: lanes === 0 ? 0 : Math.min(lanes, shared.length) }, (_, lane) =>
    shared.filter((_, i) => i % lanes === lane),
  );
  if (listOnly) {
    for (const [lane, members] of dealt.entries()) console.log(`shared-${lane + 1}: ${members.join(" ")}`);
    console.log(`unit: ${unit.length} files`);
    for (const f of own) console.log(`own process (${ownProcessReason(f)}): ${f}`);
    process.exit(0);
  }
  run = [
    ...dealt.map((members, lane) => (members.length > 1 ? bundle(`shared-${lane + 1}`, members) : members[0])),
    ...(unit.length > 1 ? [bundle("unit", unit)] : unit),
    ...own,
    ...(lanes === 0 ? shared : []),
  ];
}

const concurrency = reliability ? "1" : (process.env.TEST_CONCURRENCY ?? "2");
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${reliability ? 600000 : 300000}`,
    ...run,
  ],
  { cwd: root, stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
const cleanUp = () => bundleDir && rmSync(bundleDir, { recursive: true, force: true });
// Ctrl-C reaches the runner's whole process group; SIGTERM is passed on. Either way this
// process waits for the runner's exit, so the generated entry file is always removed.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => {
  cleanUp();
  process.exit(signal ? 1 : (code ?? 1));
});
