// `npm run emulators [-- --azurite]`: simulated Azure (ARM + Kubernetes emulators) in its own process,
// keeping its state in `<SANDBOX_DATA_DIR>/simulated-azure/` across restarts, on the same ports each time;
// with `--azurite` (or EMULATORS_AZURITE=true) also Azurite (tables, data in `<dataDir>/azurite`), so several
// `npm start` hosts can share one storage account and one simulated Azure and come and go independently.
// Prints one JSON line once ready and writes the same object to `<dataDir>/emulators.json`
// (what `SANDBOX_EMULATORS_FILE` points `npm start` at). Stops on SIGINT/SIGTERM; whatever it started
// (Azurite) exits with it, even when it is SIGKILLed.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startAzurite, type RunningAzurite } from "../localhost/azuriteProcess.js";
import { startSimulatedAzure } from "./simulatedAzure.js";
import { writeFileAtomic } from "./simulatedAzureState.js";

/** What `npm run emulators` prints and writes to `<dataDir>/emulators.json`. */
export interface EmulatorsReadyLine {
  arm: string;
  kubernetes?: string;
  caCertPath: string;
  /** With Azurite: its table endpoint and the well-known development-account connection string (not a secret). */
  tables?: string;
  tablesConnection?: string;
  /** This process, and Azurite's (which exits with it). */
  pid: number;
  azuritePid?: number;
}

export const EMULATORS_FILE = "emulators.json";

function port(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name} must be a port number (0-65535), got '${raw}'`);
  return n;
}

function previousAzuritePort(dataDir: string): number {
  try {
    const line = JSON.parse(readFileSync(join(dataDir, EMULATORS_FILE), "utf8")) as EmulatorsReadyLine;
    return line.tables ? Number(new URL(line.tables).port) : 0;
  } catch {
    return 0;
  }
}

/** What to stop, in order (simulated Azure first, Azurite last). */
const stoppers: (() => Promise<void>)[] = [];
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  (async () => {
    // emulators.json stays: the next start reuses its Azurite port.
    for (const s of stoppers) await s();
  })().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
// Before anything starts: a signal that arrives as soon as the ready line is out (a supervisor reacting to it at
// once) must find the handler, or Node's default action ends the process without stopping anything.
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

async function main(): Promise<void> {
  const dataDir = resolve(process.env.SANDBOX_DATA_DIR ?? ".data");
  const withAzurite = process.argv.includes("--azurite") || /^(true|1|yes)$/i.test(process.env.EMULATORS_AZURITE ?? "");
  const scale =
    process.env.SIM_TIME_SCALE === undefined || process.env.SIM_TIME_SCALE === ""
      ? 1
      : Number(process.env.SIM_TIME_SCALE);
  let azurite: RunningAzurite | undefined;
  if (withAzurite) {
    // The same port as last time (hosts keep their connection string across restarts), unless taken.
    const wanted = port("AZURITE_TABLE_PORT") || previousAzuritePort(dataDir);
    const location = join(dataDir, "azurite");
    azurite = await startAzurite({ location, ...(wanted ? { port: wanted } : {}) }).catch(() =>
      startAzurite({ location }),
    );
    stoppers.push(() => azurite!.stop());
  }
  const azure = await startSimulatedAzure({
    dataDir,
    persist: true,
    timeScale: scale,
    armPort: port("ARM_EMULATOR_PORT"),
    kubernetesPort: port("K8S_EMULATOR_PORT"),
  });
  stoppers.unshift(() => azure.close());
  const line: EmulatorsReadyLine = { arm: azure.armUrl, caCertPath: azure.caCertPath, pid: process.pid };
  if (azure.kubernetesUrl) line.kubernetes = azure.kubernetesUrl;
  if (azurite) {
    line.tables = azurite.tableEndpoint;
    line.tablesConnection = azurite.connectionString;
    line.azuritePid = azurite.pid;
  }
  writeFileAtomic(join(dataDir, EMULATORS_FILE), JSON.stringify(line, null, 2) + "\n");
  // The connection string (Azurite's well-known development key) goes to the file only, not to logs.
  const { tablesConnection: _connection, ...printed } = line;
  process.stdout.write(JSON.stringify(printed) + "\n");
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
