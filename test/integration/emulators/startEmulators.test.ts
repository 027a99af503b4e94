// test: end-to-end (`npm run emulators` as a process, SIGKILLed)
// `npm run emulators -- --azurite` in its own process: what it starts never outlives it, even after a
// SIGKILL, and a restart on the same data folder listens on the same ports with the same state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, portOpen, processAlive, startEmulatorsProcess } from "../../support/emulatorsProcess.js";

test(
  "SIGKILL of the emulators process: its Azurite exits too; a restart reuses every port",
  { timeout: 180_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "emulators-process-"));
    let emulators = await startEmulatorsProcess({ dataDir });
    try {
      const first = emulators.ready;
      assert.ok(first.tables && first.tablesConnection && first.azuritePid, JSON.stringify(first));
      assert.ok(processAlive(first.azuritePid));
      assert.equal(await portOpen(first.tables), true);

      await emulators.kill("SIGKILL");
      assert.ok(
        await eventually(() => !processAlive(first.azuritePid!)),
        `Azurite (pid ${first.azuritePid}) outlived its SIGKILLed parent`,
      );
      assert.ok(await eventually(async () => !(await portOpen(first.tables!))), "Azurite's port is free again");

      emulators = await startEmulatorsProcess({ dataDir });
      assert.equal(emulators.ready.arm, first.arm, "same ARM URL (stored poller states hold absolute URLs)");
      assert.equal(emulators.ready.kubernetes, first.kubernetes);
      assert.equal(emulators.ready.tables, first.tables, "same Azurite endpoint: hosts keep their connection string");
      const azuritePid = emulators.ready.azuritePid!;
      await emulators.stop();
      assert.equal(emulators.child.exitCode, 0, emulators.output());
      assert.ok(await eventually(() => !processAlive(azuritePid)), "a clean stop stops Azurite");
    } finally {
      await emulators.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
