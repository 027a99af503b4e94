import { TableClient, TableServiceClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/core-auth";
import type { HttpClient } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import type { TablesSettings } from "../../config/configuration.js";

/**
 * Connection settings for Table Storage (Azurite or Azure): a connection
 * string (a secret: shared key or SAS), or a table service URL and a token
 * credential (identity-based: no key anywhere).
 */
export type TablesConnection = (
  | {
      readonly connectionString: string;
      /** Needed for Azurite's `http://` endpoint. */
      readonly allowInsecure: boolean;
    }
  | { readonly tableServiceUri: string; readonly credential: TokenCredential }
) & {
  /** An HTTP client to use (e.g. one trusting the simulated CA); default the SDK's. */
  readonly httpClient?: HttpClient;
};

/**
 * The {@link TablesConnection} of the configured settings. Identity-based:
 * `__credential=managedidentity` → `ManagedIdentityCredential` (the
 * user-assigned identity `__clientId` when set, as Azure Functions does),
 * otherwise `DefaultAzureCredential` (managed identity in Azure, a developer
 * login locally), with `__clientId` as its managed identity.
 */
export function tablesConnection(
  settings: TablesSettings,
  options: { httpClient?: HttpClient; authorityHost?: string } = {},
): TablesConnection {
  const extra = options.httpClient ? { httpClient: options.httpClient } : {};
  if (settings.kind === "connectionString") {
    return { connectionString: settings.connectionString, allowInsecure: settings.allowInsecure, ...extra };
  }
  const authority = options.authorityHost ? { authorityHost: options.authorityHost } : {};
  const credential =
    settings.credential === "managedidentity"
      ? new ManagedIdentityCredential({ ...(settings.clientId ? { clientId: settings.clientId } : {}), ...authority })
      : new DefaultAzureCredential({
          ...(settings.clientId ? { managedIdentityClientId: settings.clientId } : {}),
          ...authority,
        });
  return { tableServiceUri: settings.tableServiceUri, credential, ...extra };
}

function clientOptions(connection: TablesConnection): { allowInsecureConnection: boolean; httpClient?: HttpClient } {
  return {
    allowInsecureConnection: "connectionString" in connection && connection.allowInsecure,
    ...(connection.httpClient ? { httpClient: connection.httpClient } : {}),
  };
}

/** A service client for the account. */
export function tableServiceClient(connection: TablesConnection): TableServiceClient {
  if ("connectionString" in connection)
    return TableServiceClient.fromConnectionString(connection.connectionString, clientOptions(connection));
  return new TableServiceClient(connection.tableServiceUri, connection.credential, clientOptions(connection));
}

/** A client for one table of the account (the table is not created here). */
export function tableClient(connection: TablesConnection, tableName: string): TableClient {
  if ("connectionString" in connection)
    return TableClient.fromConnectionString(connection.connectionString, tableName, clientOptions(connection));
  return new TableClient(connection.tableServiceUri, tableName, connection.credential, clientOptions(connection));
}

/**
 * Answers when the table endpoint serves a request within `timeoutMs`
 * (default 2000 ms). Throws otherwise, with a message free of secrets.
 */
export async function probeTables(connection: TablesConnection, timeoutMs = 2000): Promise<void> {
  const client = tableServiceClient(connection);
  try {
    // The SDK retries refused connections for a while; the signal bounds it.
    const pages = client.listTables({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 1 });
    await pages.next();
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as { name?: string }).name;
    throw new Error(`Table Storage did not answer within ${timeoutMs} ms${code ? ` (${code})` : ""}`);
  }
}

/**
 * A function that creates the client's table on its first call (creating an
 * existing table succeeds, as the SDK treats 409 TableAlreadyExists as done),
 * shares that one attempt among concurrent callers, and tries again on the
 * next call after a failure, which `toError` translates.
 */
export function tableCreator(
  client: TableClient,
  toError: (error: unknown) => unknown = (error) => error,
): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= client.createTable().catch((error: unknown) => {
      ready = undefined;
      throw toError(error);
    });
    return ready;
  };
}

/**
 * Whether Table Storage accepts this as a PartitionKey or RowKey: no `/`,
 * `\\`, `#`, `?`, no control characters, at most 1 KiB. A key it refuses can
 * name no row, so a point read with it is "not found" (Azurite answers such a
 * read with a 500, Azure with a 400: neither is the caller's storage failing).
 */
export function isStorableTableKey(key: string): boolean {
  return key.length <= 1024 && !/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(key);
}
