import { randomBytes } from "node:crypto";
import { startAzurite, type RunningAzurite } from "../../src/localhost/azuriteProcess.js";

/**
 * Table Storage for one test: a storage account of its own on an Azurite that
 * the test process shares. Starting Azurite costs about a second of CPU; a
 * test process (which runs many files when they share one) now starts it once
 * per {@link ACCOUNTS_PER_AZURITE} accounts. Each account is used by one
 * caller only, so tests see none of each other's tables, as with an Azurite
 * each. `stop()` releases nothing but the handle: the shared Azurite exits
 * with the test process (or when it dies: Azurite watches its parent).
 *
 * Tests of Azurite itself, of its options (TLS, OAuth, a data folder) or of
 * its outages start their own with `startAzurite`.
 */
export async function startTestAzurite(): Promise<RunningAzurite> {
  if (shared === undefined || shared.next >= shared.accounts.length) shared = startShared();
  const current = shared;
  const account = current.accounts[current.next++]!;
  const azurite = await current.azurite;
  const tableEndpoint = `http://127.0.0.1:${azurite.port}/${account.name}`;
  return {
    pid: azurite.pid,
    port: azurite.port,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${account.name};AccountKey=${account.key};` +
      `TableEndpoint=${tableEndpoint};`,
    stop: async () => undefined,
  };
}

const ACCOUNTS_PER_AZURITE = 32;

interface SharedAzurite {
  accounts: { name: string; key: string }[];
  next: number;
  azurite: Promise<RunningAzurite>;
}

let shared: SharedAzurite | undefined;
let started = 0;

function startShared(): SharedAzurite {
  const generation = ++started;
  const accounts = Array.from({ length: ACCOUNTS_PER_AZURITE }, (_, i) => ({
    name: `test${generation}x${i}`,
    key: randomBytes(32).toString("base64"),
  }));
  return { accounts, next: 0, azurite: startAzurite({ accounts, unref: true }) };
}
