#!/usr/bin/env node
// Runs test/**/*.test.ts files with node:test through tsx, in three tiers.
// Node 20's --test does not expand globs, so the files are listed here.
// Usage: npm test [-- <path filter substring> ...] [--isolated] [--list] [--record-times]
//   npm test                   everything but the two tiers below (about 540 tests, 75–95 s on 2 cores)
//   npm run test:e2e (--e2e)   files marked `// test: end-to-end (why)`: they start the product's own
//                              processes (`npm start`, a host, `npm run emulators`, the built CLI, the
//                              zip) or an outside program (Chromium, kubectl); a process each, two at a time
//   npm run test:reliability   test/reliability/ (fuzzing, faults, outages, chaos), one file at a time
//
// In `npm test`, files share processes: each of TEST_LANES (default 3) generated entry files imports a
// share of them, so Node, tsx and the app's module graph (5–8 s of CPU) start three times instead of
// once per file. The shares are dealt by the seconds each file took in a recorded run
// (test/fileSeconds.json; `--record-times` rewrites it), longest first onto the lightest lane. Three
// lanes plus one more process keep both cores busy while the lanes wait on simulated time; more lanes
// made the run slower (four: 93–105 s, 142–150 s of CPU; three: 83–88 s, 98–100 s of CPU).
// A file that changes process-wide state keeps its own process: one that writes
// process.env or globalThis, registers functions with the global
// @azure/functions app, or has root-level hooks (which would wrap every file
// of a shared process), or says so in a line `// test: own process (why)`.
// `--isolated` gives every file its own process; `--list` shows the deal.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("..", import.meta.url).pathname;
const reliability = process.argv.includes("--reliability");
const endToEnd = process.argv.includes("--e2e");
const isolated = process.argv.includes("--isolated");
const listOnly = process.argv.includes("--list");
const recordTimes = process.argv.includes("--record-times");
const flags = ["--reliability", "--e2e", "--isolated", "--list", "--record-times"];
const filters = process.argv.slice(2).filter((a) => !flags.includes(a));
if (recordTimes && (reliability || endToEnd)) {
  // test/fileSeconds.json deals npm test's files only; the other tiers run a process per file.
  console.error("--record-times records npm test's files only");
  process.exit(2);
}
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

/** A file marked `// test: end-to-end (why)` runs in `npm run test:e2e`, not in `npm test`. */
const isEndToEnd = (file) => /^\/\/ test: end-to-end/m.test(readFileSync(join(root, file), "utf8"));
const files = collect(join(root, "test"))
  .filter((f) => f.startsWith(reliabilityDir) === reliability)
  .filter((f) => reliability || isEndToEnd(f) === endToEnd)
  .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
  .sort();
if (files.length === 0) {
  // Say where a filter's files are when they belong to another tier (`npm test -- cli` → the e2e tier).
  const elsewhere = collect(join(root, "test"))
    .filter((f) => filters.some((flt) => f.includes(flt)))
    .map((f) =>
      f.startsWith(reliabilityDir) ? "npm run test:reliability" : isEndToEnd(f) ? "npm run test:e2e" : "npm test",
    );
  const hint = [...new Set(elsewhere)].map((command) => `${command} -- ${filters.join(" ")}`).join(" or ");
  console.error(`no test files matched${hint ? `; they are in another tier: ${hint}` : ""}`);
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
let lanes = 0;
if (!isolated && !reliability && !endToEnd) {
  const own = files.filter((f) => ownProcessReason(f) !== undefined);
  const shared = files.filter((f) => !own.includes(f));
  lanes = Math.max(1, Number(process.env.TEST_LANES ?? 3));
  // Longest first onto the least loaded lane, by the seconds each file took in a recorded run
  // (test/fileSeconds.json, `npm test -- --record-times` rewrites it); a file not in it yet is
  // guessed from its size (about 1 s per 400 bytes of an integration test, a tenth of that for a unit test).
  const recorded = JSON.parse(readFileSync(join(root, "test", "fileSeconds.json"), "utf8"));
  const seconds = (f) => recorded[f] ?? statSync(join(root, f)).size / (f.startsWith(unitDir + "/") ? 4000 : 400);
  const dealt = Array.from({ length: Math.min(lanes, shared.length) }, () => ({ members: [], load: 0 }));
  for (const f of [...shared].sort((a, b) => seconds(b) - seconds(a))) {
    const lane = dealt.reduce((least, l) => (l.load < least.load ? l : least));
    lane.members.push(f);
    lane.load += seconds(f);
  }
  for (const lane of dealt) lane.members.sort();
  if (listOnly) {
    for (const [i, lane] of dealt.entries()) console.log(`lane ${i + 1}: ${lane.members.join(" ")}`);
    for (const f of own) console.log(`own process (${ownProcessReason(f)}): ${f}`);
    process.exit(0);
  }
  run = [
    ...dealt.map((lane, i) => (lane.members.length > 1 ? bundle(`lane-${i + 1}`, lane.members) : lane.members[0])),
    ...own,
  ];
} else if (listOnly) {
  for (const f of files) console.log(f);
  process.exit(0);
}

// The lanes, plus one process at a time for the files that need their own.
const concurrency = reliability ? "1" : (process.env.TEST_CONCURRENCY ?? String(lanes > 0 ? lanes + 1 : 2));
// Recording: the usual output on stdout, and the per-file seconds into test/fileSeconds.json.
const timesFile = join(root, "test", "fileSeconds.json");
const reporters = recordTimes
  ? [
      `--test-reporter=${process.stdout.isTTY ? "spec" : "tap"}`,
      "--test-reporter-destination=stdout",
      `--test-reporter=${pathToFileURL(join(root, "scripts", "testTimesReporter.mjs")).href}`,
      `--test-reporter-destination=${timesFile}.new`,
    ]
  : [];
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    ...reporters,
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
  if (recordTimes) {
    // A run of some files (a filter) keeps the others' seconds; a whole run replaces them all.
    const fresh = JSON.parse(readFileSync(`${timesFile}.new`, "utf8"));
    const merged = { ...(filters.length > 0 ? JSON.parse(readFileSync(timesFile, "utf8")) : {}), ...fresh };
    const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(timesFile, JSON.stringify(sorted, null, 2) + "\n");
    rmSync(`${timesFile}.new`, { force: true });
  }
  process.exit(signal ? 1 : (code ?? 1));
});
