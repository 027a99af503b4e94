// test: end-to-end (`npm start` itself)
// The README's main command, for real: `npm start` builds, starts Azurite,
// the emulators, the local issuer and the host, prints the ready JSON line
// within 90 s, serves healthz, and Ctrl-C (SIGINT to the process group, as a
// terminal sends it) stops everything it started with exit code 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../../src/packageRoot.js";

function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

test(
  "npm start: ready line within 90 s, healthz 200, Ctrl-C stops everything and exits 0",
  { timeout: 240_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "aks-pod-sandbox-npmstart-"));
    const child = spawn("npm", ["start"], {
      cwd: packageRoot(),
      detached: true,
      env: { ...process.env, PORT: "0", SANDBOX_DATA_DIR: dataDir, SIM_TIME_SCALE: "0.05" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      child.once("exit", (code, signal) => resolve(code ?? signal)),
    );
    try {
      const started = Date.now();
      const ready = await new Promise<Record<string, string>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line within 90 s:\n${output}`)), 90_000);
        child.stdout.on("data", () => {
          const lines = output.split("\n").filter((l) => l.startsWith("{"));
          const line = lines.find((l) => l.startsWith('{"api"'));
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as Record<string, string>);
          }
        });
        void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
      });
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 90, `ready after ${seconds} s`);
      for (const key of ["api", "docs", "tables", "arm", "kubernetes", "caCertPath", "subscriptionId"])
        assert.ok(ready[key], `ready line names ${key}: ${JSON.stringify(ready)}`);
      const lastLine = output.trimEnd().split("\n").at(-1);
      assert.equal(lastLine, JSON.stringify(ready), "the ready JSON line is the last line once ready");
      const health = await fetch(`${ready.api}/healthz`);
      assert.equal(health.status, 200);
      const readiness = await fetch(`${ready.api}/readyz`);
      assert.equal(readiness.status, 200, await readiness.text());

      process.kill(-child.pid!, "SIGINT");
      const code = await exited;
      // npm itself re-raises the SIGINT it got; the stack underneath stopped cleanly and exited 0.
      assert.ok(code === 0 || code === "SIGINT", `npm start ended with ${String(code)}`);
      assert.match(output, /aks-pod-sandbox stopped \(SIGINT\)/, output.slice(-2000));
      assert.doesNotMatch(output, /stop failed|"level":"error"/, output.slice(-2000));
      for (const url of [ready.api!, ready.tables!, ready.arm!, ready.kubernetes!])
        assert.equal(await portOpen(url), false, `${url} still listening after Ctrl-C`);
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
