import assert from "node:assert/strict";
import { test } from "node:test";
import { ESLint } from "eslint";

// The layering (functions → http → domain ← adapters; emulators never in production paths) is enforced by
// `no-restricted-imports` zones in eslint.config.js. This lints deliberate violations through the project's own
// config with a `filePath` inside each zone: removing or loosening a zone makes a case below fail.
// Type information is not needed for an import rule, so the probe turns the type-aware parser off and runs only
// `no-restricted-imports` (the full type-aware run is `npx eslint .`).
const root = new URL("../../../", import.meta.url).pathname;
const eslint = new ESLint({
  cwd: root,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  ruleFilter: ({ ruleId }) => ruleId === "no-restricted-imports",
});

async function restrictedImports(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}${filePath}` });
  assert.ok(result, filePath);
  const fatal = result.messages.filter((message) => message.fatal);
  assert.deepEqual(fatal, [], `${filePath} must parse`);
  return result.messages.filter((message) => message.ruleId === "no-restricted-imports").map((m) => m.message);
}

const forbidden: Array<[zone: string, filePath: string, source: string, mentions: RegExp]> = [
  [
    "domain → adapter",
    "src/domain/sandbox/probe.ts",
    'import { x } from "../../adapters/tables/tableErrors.js";',
    /adapters/,
  ],
  [
    "domain → adapter (re-export)",
    "src/domain/probe.ts",
    'export { x } from "../adapters/arm/armErrors.js";',
    /adapters/,
  ],
  ["domain → @azure SDK", "src/domain/jobs/probe.ts", 'import { TableClient } from "@azure/data-tables";', /package/],
  [
    "domain → @azure type",
    "src/domain/jobs/probe.ts",
    'import type { HttpRequest } from "@azure/functions";',
    /package/,
  ],
  [
    "domain → @kubernetes SDK",
    "src/domain/kubernetes/probe.ts",
    'import * as k8s from "@kubernetes/client-node";',
    /package/,
  ],
  ["domain → jose", "src/domain/identity/probe.ts", 'import { jwtVerify } from "jose";', /package/],
  ["domain → ajv", "src/domain/policy/probe.ts", 'import Ajv from "ajv";', /package/],
  ["domain → node:fs", "src/domain/operations/probe.ts", 'import { readFileSync } from "node:fs";', /I\/O/],
  ["domain → fs (no prefix)", "src/domain/operations/probe.ts", 'import { readFileSync } from "fs";', /package/],
  ["domain → node:net", "src/domain/operations/probe.ts", 'import { connect } from "node:net";', /I\/O/],
  ["domain → node:http", "src/domain/operations/probe.ts", 'import { request } from "node:http";', /I\/O/],
  ["domain → node:https", "src/domain/operations/probe.ts", 'import { request } from "node:https";', /I\/O/],
  ["domain → node:child_process", "src/domain/probe.ts", 'import { spawn } from "node:child_process";', /I\/O/],
  ["domain → node:dns", "src/domain/probe.ts", 'import { lookup } from "node:dns";', /I\/O/],
  [
    "domain → node:timers/promises",
    "src/domain/probe.ts",
    'import { setTimeout } from "node:timers/promises";',
    /I\/O/,
  ],
  [
    "domain → config",
    "src/domain/sandbox/probe.ts",
    'import type { X } from "../../config/configuration.js";',
    /config/,
  ],
  [
    "domain → composition",
    "src/domain/sandbox/probe.ts",
    'import { services } from "../../composition.js";',
    /composition/,
  ],
  [
    "domain → emulators",
    "src/domain/probe.ts",
    'import { SimulatedClock } from "../emulators/simulatedClock.js";',
    /emulators/,
  ],
  ["domain → http", "src/domain/jobs/probe.ts", 'import { x } from "../../http/jobHandlers.js";', /point down/],
  ["http → adapter", "src/http/probe.ts", 'import { x } from "../adapters/tables/tableErrors.js";', /adapters/],
  ["http → composition", "src/http/probe.ts", 'import { services } from "../composition.js";', /composition/],
  ["http → emulators", "src/http/probe.ts", 'import { x } from "../emulators/simulatedAzure.js";', /emulators/],
  [
    "adapters → emulators",
    "src/adapters/arm/probe.ts",
    'import { x } from "../../emulators/arm/armEmulator.js";',
    /emulators/,
  ],
  ["composition → emulators", "src/probe.ts", 'import { x } from "./emulators/simulatedCloud.js";', /emulators/],
  ["config → emulators", "src/config/probe.ts", 'import { x } from "../emulators/simulatedCloud.js";', /emulators/],
  [
    "functions → emulators",
    "functions/probe.ts",
    'import { x } from "../src/emulators/simulatedAzure.js";',
    /emulators/,
  ],
];

for (const [zone, filePath, source, mentions] of forbidden) {
  test(`lint rejects ${zone}`, async () => {
    const messages = await restrictedImports(filePath, source);
    assert.equal(messages.length, 1, `${filePath}: ${source} → ${JSON.stringify(messages)}`);
    assert.match(messages[0] ?? "", mentions);
  });
}

const allowed: Array<[zone: string, filePath: string, source: string]> = [
  ["domain → domain", "src/domain/jobs/probe.ts", 'import { x } from "../operations/a.js";\nimport "./a.js";'],
  ["domain → node:crypto (ids, tokens)", "src/domain/jobs/probe.ts", 'import { randomUUID } from "node:crypto";'],
  [
    "http → domain and @azure/functions",
    "src/http/probe.ts",
    'import { x } from "../domain/a.js";\nimport "@azure/functions";',
  ],
  [
    "adapters → SDK and domain",
    "src/adapters/tables/probe.ts",
    'import "@azure/data-tables";\nimport "../../domain/a.js";',
  ],
  [
    "composition → adapters",
    "src/probe.ts",
    'import { x } from "./adapters/tables/a.js";\nimport "./config/configuration.js";',
  ],
  [
    "functions → http and composition",
    "functions/probe.ts",
    'import "../src/http/a.js";\nimport "../src/composition.js";',
  ],
  ["localhost → emulators", "src/localhost/probe.ts", 'import { x } from "../emulators/simulatedAzure.js";'],
  ["emulators → emulators", "src/emulators/arm/probe.ts", 'import { x } from "../simulatedClock.js";'],
];

for (const [zone, filePath, source] of allowed) {
  test(`lint allows ${zone}`, async () => {
    assert.deepEqual(await restrictedImports(filePath, source), []);
  });
}
