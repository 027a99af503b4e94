// `npm run emulators`: starts simulated Azure and prints one JSON line
// {"arm":…,"kubernetes":…,"caCertPath":…} once ready; stops on SIGINT/SIGTERM.
import { join } from "node:path";
import { startSimulatedAzure } from "./simulatedAzure.js";
import { simulatedClockFromEnv } from "./simulatedClock.js";
import { SimulatedCloud } from "./simulatedCloud.js";

function port(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const cloud = new SimulatedCloud(simulatedClockFromEnv());
  const azure = await startSimulatedAzure({
    dataDir: join(process.cwd(), ".data"),
    armPort: port("ARM_EMULATOR_PORT"),
    kubernetesPort: port("K8S_EMULATOR_PORT"),
    cloud,
  });
  const line: Record<string, string> = { arm: azure.armUrl };
  if (azure.kubernetesUrl) line.kubernetes = azure.kubernetesUrl;
  line.caCertPath = azure.caCertPath;
  process.stdout.write(JSON.stringify(line) + "\n");
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    azure.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
