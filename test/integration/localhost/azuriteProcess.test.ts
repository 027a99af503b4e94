// Azurite as npm start runs it, persisting to a folder: a stop must not lose
// what it acknowledged (its table store saves every 5 s, and on SIGINT, but
// not on SIGTERM; found by the Azurite outage suite, where job rows vanished).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TableClient } from "@azure/data-tables";
import { startAzurite } from "../../../src/localhost/azuriteProcess.js";

test("rows written just before stop() are there after a restart on the same folder and port", async () => {
  const folder = mkdtempSync(join(tmpdir(), "azurite-persist-"));
  try {
    const first = await startAzurite({ location: folder });
    const client = (connection: string) =>
      TableClient.fromConnectionString(connection, "persisted", { allowInsecureConnection: true });
    await client(first.connectionString).createTable();
    for (let i = 0; i < 20; i++)
      await client(first.connectionString).createEntity({ partitionKey: "p", rowKey: `r${i}` });
    await first.stop();
    const second = await startAzurite({ location: folder, port: first.port });
    try {
      const rows: string[] = [];
      for await (const row of client(second.connectionString).listEntities()) rows.push(String(row.rowKey));
      assert.equal(rows.length, 20, `rows after restart: ${rows.join(",")}`);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
