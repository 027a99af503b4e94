// test: end-to-end (`npm run demo` against a host process)
// `npm run demo` — the seed scenario through the REST API — against the
// local stack (the same start script as `npm start`), on the simulated clock.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../../src/packageRoot.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";

let host: AppHost;
before(async () => {
  host = await startAppHost({ env: { SIM_TIME_SCALE: "0.01" } });
});
after(async () => {
  await host?.stop();
});

test(
  "npm run demo (the typed client only) walks the whole scenario, with live logs and paging, and exits 0",
  { timeout: 240_000 },
  async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), join(packageRoot(), "scripts", "demo.ts"), host.api],
      {
        env: { ...process.env, SANDBOX_DATA_DIR: host.dataDir },
        timeout: 230_000,
      },
    );
    assert.match(stdout, /demo succeeded/);
    assert.match(stdout, /5\.15\.48\.1-8\.cm2\s+5\.15\.80\.mshv2-hvl1\.m2/, "kernels side by side");
    assert.match(stdout, /verdict: ISOLATED/);
    assert.match(stdout, /untrusted-uname \| 5\.15\.48\.1-8\.cm2/, "the untrusted job's live log line");
    assert.match(
      stdout,
      /job trusted-uname: Succeeded[\s\S]*job untrusted-uname: Succeeded/,
      "jobs paged (2 per page)",
    );
    assert.match(stdout, /operation IsolationCheck: Succeeded/, "operations paged");
    for (const step of [
      "Register the Pod Sandboxing preview feature",
      "Create cluster",
      "Add a sandbox node pool",
      "Run a trusted job and an untrusted",
      "Isolation check",
      "Page through",
      "Clean up",
    ]) {
      assert.match(stdout, new RegExp(step), step);
    }
  },
);

test("scripts/ and clients/ hold no hand-written HTTP: demo.ts calls the typed client only", async () => {
  const { readFileSync } = await import("node:fs");
  const demo = readFileSync(join(packageRoot(), "scripts", "demo.ts"), "utf8");
  assert.doesNotMatch(demo, /\bfetch\(|node:http|XMLHttpRequest/);
  assert.match(demo, /clients\/typescript\/src\/index\.js/);
});
