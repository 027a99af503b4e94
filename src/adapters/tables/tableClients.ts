import { TableClient, TableServiceClient } from "@azure/data-tables";

/** Connection settings for Table Storage (Azurite or Azure). The connection string is a secret. */
export interface TablesConnection {
  readonly connectionString: string;
  /** Needed for Azurite's `http://` endpoint. */
  readonly allowInsecure: boolean;
}

/** A service client for the account. */
export function tableServiceClient(connection: TablesConnection): TableServiceClient {
  return TableServiceClient.fromConnectionString(connection.connectionString, { allowInsecureConnection: connection.allowInsecure });
}

/** A client for one table of the account (the table is not created here). */
export function tableClient(connection: TablesConnection, tableName: string): TableClient {
  return TableClient.fromConnectionString(connection.connectionString, tableName, { allowInsecureConnection: connection.allowInsecure });
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
export function tableCreator(client: TableClient, toError: (error: unknown) => unknown = (error) => error): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= client.createTable().catch((error: unknown) => {
      ready = undefined;
      throw toError(error);
    });
    return ready;
  };
}
