import { DEFAULT_AUDIT_RETENTION_DAYS } from "../domain/policy/auditLog.js";
import type { SandboxPolicy } from "../domain/policy/policy.js";
import { loadPolicyFile } from "./policyFile.js";
import { simulatedPolicyFile } from "./simulatedPolicy.js";

/**
 * Configuration: read once at start from the environment (plus
 * `local.settings.json` `Values` in the local host), validated as a whole,
 * frozen. Every problem is reported at once, naming the setting.
 */

import type { SandboxFlavor } from "../domain/sandbox/sandboxFlavor.js";
export type { SandboxFlavor };

export interface AuthConfiguration {
  /** Expected `iss` claim. */
  readonly issuer: string;
  /** Expected `aud` claim(s). */
  readonly audiences: readonly string[];
  /** JWKS document URL. */
  readonly jwksUrl: string;
  /** Claim that names the caller's team (default `team`). */
  readonly teamClaim: string;
  /** JWS algorithms accepted (default RS256). `none` is never accepted. */
  readonly algorithms: readonly string[];
  /** Clock skew tolerated on `exp`/`nbf`, seconds (0–300, default 300). */
  readonly clockSkewSeconds: number;
}

/**
 * How the app reaches Table Storage: a connection string (shared key or SAS;
 * Azurite), or an identity-based connection as Azure Functions defines it
 * (`AzureWebJobsStorage__accountName` / `__tableServiceUri`, `__credential`,
 * `__clientId`): a token from Entra, no account key.
 */
export type TablesSettings =
  | {
      readonly kind: "connectionString";
      /** Secret: never log. */
      readonly connectionString: string;
      /** True when the account is Azurite or another `http://` endpoint. */
      readonly allowInsecure: boolean;
    }
  | {
      readonly kind: "identity";
      /** `https://<account>.table.core.windows.net` (from `__accountName`) or `__tableServiceUri`. */
      readonly tableServiceUri: string;
      /** `managedidentity` (`__credential`): managed identity only; otherwise `DefaultAzureCredential`. */
      readonly credential: "managedidentity" | "default";
      /** `__clientId`: the user-assigned managed identity to use. */
      readonly clientId: string | undefined;
    };

export interface Configuration {
  /** Table Storage: connection string or identity-based connection. */
  readonly tables: TablesSettings;
  /** The connection string when {@link tables} is one (Azurite's in simulated mode). Secret: never log. */
  readonly tablesConnectionString: string | undefined;
  /** True when the account is Azurite or another `http://` endpoint. */
  readonly tablesAllowInsecure: boolean;
  /** ARM endpoint, default `https://management.azure.com`. */
  readonly armEndpoint: string;
  /** Entra authority host for `DefaultAzureCredential`, when set. */
  readonly azureAuthorityHost: string | undefined;
  readonly flavor: SandboxFlavor;
  /** Simulated Azure: emulators, static ARM token, local token issuer. */
  readonly simulate: boolean;
  /** CA certificate (PEM path) the ARM/Kubernetes clients trust in simulated mode. */
  readonly simulatedCaCertPath: string | undefined;
  /** Wall seconds per simulated second (simulated mode), (0, 1], default 1. */
  readonly simTimeScale: number;
  readonly auth: AuthConfiguration;
  /** Path of the team policy file (JSON); simulated mode defaults to `policy/simulated.policy.json`. */
  readonly policyFile: string | undefined;
  /** The team policy loaded from `policyFile` and validated against `policy/policy.schema.json`. */
  readonly policy: SandboxPolicy;
  /** Where local state lives (`.data/`): local issuer key, TLS material, Azurite data. */
  readonly dataDir: string;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** The durable operations engine (see src/domain/operations/operationEngine.ts). */
  readonly operations: OperationsConfiguration;
  /** SANDBOX_MIN_KUBERNETES_VERSION: oldest Kubernetes version sandbox pools and clusters may run, `major.minor[.patch]`, default 1.24.0 (AKS Pod Sandboxing's minimum). */
  readonly minKubernetesVersion: string;
  /** SANDBOX_MAX_REQUEST_BODY_BYTES: largest request body the API reads, 1 KiB–16 MiB, default 1 MiB (larger → 413). */
  readonly maxRequestBodyBytes: number;
  /** Webhook delivery settings. */
  readonly webhooks: WebhooksConfiguration;
  /** AUDIT_RETENTION_DAYS: days audit records are kept (the daily `pruneAuditRecords` timer removes older days), 1–3650, default 90. */
  readonly auditRetentionDays: number;
}

/** Webhook settings. */
export interface WebhooksConfiguration {
  /**
   * WEBHOOK_SECRET_KEY: 32 bytes, base64 — the key that seals signing secrets
   * at rest (AES-256-GCM). In Azure, a Key Vault reference. Secret: never log.
   * Simulated mode without it: a key generated under `.data/webhook-secret.key`.
   */
  readonly secretKey: string | undefined;
}

/** Settings of the operations engine and reconciler. */
export interface OperationsConfiguration {
  /** OPERATIONS_CONCURRENCY: operations one reconcile pass advances at once, 1–64, default 8. */
  readonly concurrency: number;
  /** OPERATIONS_ARM_BUDGET_PER_MINUTE: ARM calls per minute and subscription per instance, 1–10000, default 200 (scaled in simulated mode). */
  readonly armBudgetPerMinute: number;
  /** OPERATIONS_RETENTION_DAYS: days terminal operations are kept, 30–3650, default 30. */
  readonly retentionDays: number;
  /** OPERATIONS_CLAIM_SECONDS: wall seconds an instance's claim on an advancing operation lasts, 5–600, default 60. */
  readonly claimSeconds: number;
  /** OPERATIONS_PASS_SECONDS: wall seconds one reconcile pass drives due operations, 1–9, default 8 (the timer fires every 10 s). */
  readonly passSeconds: number;
}

export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  constructor(readonly problems: readonly string[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n- ${problems.join("\n- ")}`,
    );
  }
}

/** Azurite's documented well-known development account (not a secret). */
export const AZURITE_DEVELOPMENT_CONNECTION =
  "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

/** Builds an Azurite connection string for a table endpoint on a given port. */
export function azuriteConnectionString(tablePort: number, host = "127.0.0.1"): string {
  return AZURITE_DEVELOPMENT_CONNECTION.replace("127.0.0.1:10002", `${host}:${tablePort}`);
}

type Env = Readonly<Record<string, string | undefined>>;

/** The Functions connection prefixes the app reads Table Storage from; the first one set wins. */
const TABLE_CONNECTION_PREFIXES = ["SANDBOX_TABLES_CONNECTION", "AzureWebJobsStorage"] as const;
const IDENTITY_CONNECTION_SUFFIXES = ["__accountName", "__tableServiceUri", "__credential", "__clientId"] as const;

/** Every setting {@link loadConfiguration} reads (infra/ may set only these, besides the Functions platform's own). */
export const CONFIGURATION_SETTINGS: readonly string[] = Object.freeze([
  ...TABLE_CONNECTION_PREFIXES.flatMap((prefix) => [
    prefix,
    ...IDENTITY_CONNECTION_SUFFIXES.map((suffix) => prefix + suffix),
  ]),
  "SANDBOX_SIMULATE",
  "ARM_ENDPOINT",
  "AZURE_AUTHORITY_HOST",
  "SANDBOX_FLAVOR",
  "SANDBOX_SIMULATED_CA_CERT",
  "SIM_TIME_SCALE",
  "AUTH_ISSUER",
  "AUTH_AUDIENCE",
  "AUTH_JWKS_URL",
  "AUTH_ALGORITHMS",
  "AUTH_CLOCK_SKEW_SECONDS",
  "AUTH_TEAM_CLAIM",
  "LOG_LEVEL",
  "OPERATIONS_CONCURRENCY",
  "OPERATIONS_ARM_BUDGET_PER_MINUTE",
  "OPERATIONS_RETENTION_DAYS",
  "OPERATIONS_CLAIM_SECONDS",
  "OPERATIONS_PASS_SECONDS",
  "AUDIT_RETENTION_DAYS",
  "SANDBOX_MIN_KUBERNETES_VERSION",
  "SANDBOX_MAX_REQUEST_BODY_BYTES",
  "SANDBOX_POLICY_FILE",
  "SANDBOX_DATA_DIR",
  "WEBHOOK_SECRET_KEY",
  // Read by functions/webhooks.ts (the delivery timer's schedule) and src/telemetry (Azure Monitor).
  "WEBHOOK_DELIVERY_SCHEDULE",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
]);

/**
 * What must be set outside simulated mode: one setting of each group (Table
 * Storage: a connection string or an identity-based connection).
 */
export const REQUIRED_OUTSIDE_SIMULATION: readonly (readonly string[])[] = Object.freeze([
  TABLE_CONNECTION_PREFIXES.flatMap((prefix) => [prefix, `${prefix}__accountName`, `${prefix}__tableServiceUri`]),
  ["AUTH_ISSUER"],
  ["AUTH_AUDIENCE"],
  ["AUTH_JWKS_URL"],
  ["SANDBOX_POLICY_FILE"],
]);

function tablesSettings(
  get: (name: string) => string | undefined,
  simulate: boolean,
  problems: string[],
): TablesSettings {
  const fallback: TablesSettings = {
    kind: "connectionString",
    connectionString: AZURITE_DEVELOPMENT_CONNECTION,
    allowInsecure: true,
  };
  for (const prefix of TABLE_CONNECTION_PREFIXES) {
    let connectionString = get(prefix);
    if (connectionString !== undefined) {
      if (connectionString === "UseDevelopmentStorage=true") connectionString = AZURITE_DEVELOPMENT_CONNECTION;
      const endpoint = /TableEndpoint=([^;]+)/i.exec(connectionString)?.[1];
      const protocol = /DefaultEndpointsProtocol=([^;]+)/i.exec(connectionString)?.[1];
      const accountName = /AccountName=([^;]+)/i.exec(connectionString)?.[1];
      if (endpoint === undefined && accountName === undefined) {
        // Never echo the value: it holds the account key.
        problems.push(`${prefix}: not a storage connection string (no TableEndpoint or AccountName)`);
      }
      const allowInsecure = (endpoint?.startsWith("http://") ?? false) || protocol?.toLowerCase() === "http";
      if (allowInsecure && !simulate && endpoint !== undefined && !isLoopbackUrl(endpoint)) {
        problems.push(`${prefix}: plain http is only allowed to a loopback Azurite`);
      }
      return { kind: "connectionString", connectionString, allowInsecure };
    }
    const accountName = get(`${prefix}__accountName`);
    const serviceUri = get(`${prefix}__tableServiceUri`);
    if (accountName === undefined && serviceUri === undefined) continue;
    const credentialRaw = get(`${prefix}__credential`);
    const clientId = get(`${prefix}__clientId`);
    if (credentialRaw !== undefined && credentialRaw.toLowerCase() !== "managedidentity") {
      problems.push(`${prefix}__credential: only "managedidentity" is supported, got "${credentialRaw}"`);
    }
    if (clientId !== undefined && !/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(clientId)) {
      problems.push(`${prefix}__clientId: must be the client id (a GUID) of a user-assigned managed identity`);
    }
    let tableServiceUri = serviceUri;
    if (tableServiceUri === undefined) {
      if (!/^[a-z0-9]{3,24}$/.test(accountName!))
        problems.push(
          `${prefix}__accountName: must be a storage account name (3-24 lowercase letters and digits), got "${accountName}"`,
        );
      tableServiceUri = `https://${accountName}.table.core.windows.net`;
    } else if (!isHttpUrl(tableServiceUri, false)) {
      problems.push(
        `${prefix}__tableServiceUri: must be an https URL (tokens are never sent over http), got "${tableServiceUri}"`,
      );
    }
    return {
      kind: "identity",
      tableServiceUri,
      credential: credentialRaw === undefined ? "default" : "managedidentity",
      clientId,
    };
  }
  problems.push(
    "AzureWebJobsStorage / SANDBOX_TABLES_CONNECTION: required (a Table Storage connection string, UseDevelopmentStorage=true for Azurite, " +
      "or an identity-based connection: AzureWebJobsStorage__accountName or __tableServiceUri)",
  );
  return fallback;
}

function isHttpUrl(value: string, allowHttp: boolean): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (allowHttp && url.protocol === "http:");
  } catch {
    return false;
  }
}

function isLoopbackUrl(value: string): boolean {
  try {
    const { hostname } = new URL(value);
    return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
  } catch {
    return false;
  }
}

/**
 * Validates `env` and returns a frozen {@link Configuration}.
 * @throws ConfigurationError listing every problem, each naming its setting.
 */
export function loadConfiguration(env: Env = process.env): Configuration {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    problems.push(`${name}: expected true or false, got "${raw}"`);
    return fallback;
  };

  const simulate = bool("SANDBOX_SIMULATE", false);

  const tables = tablesSettings(get, simulate, problems);
  const tablesConnectionString = tables.kind === "connectionString" ? tables.connectionString : undefined;
  const tablesAllowInsecure = tables.kind === "connectionString" ? tables.allowInsecure : false;

  const armEndpoint = get("ARM_ENDPOINT") ?? "https://management.azure.com";
  if (!isHttpUrl(armEndpoint, false)) problems.push(`ARM_ENDPOINT: must be an https URL, got "${armEndpoint}"`);

  const azureAuthorityHost = get("AZURE_AUTHORITY_HOST");
  if (azureAuthorityHost !== undefined && !isHttpUrl(azureAuthorityHost, false)) {
    problems.push(`AZURE_AUTHORITY_HOST: must be an https URL, got "${azureAuthorityHost}"`);
  }

  const flavorRaw = get("SANDBOX_FLAVOR") ?? "preview";
  let flavor: SandboxFlavor = "preview";
  if (flavorRaw === "preview" || flavorRaw === "ga") flavor = flavorRaw;
  else problems.push(`SANDBOX_FLAVOR: must be "preview" or "ga", got "${flavorRaw}"`);

  const simulatedCaCertPath = get("SANDBOX_SIMULATED_CA_CERT");

  const scaleRaw = get("SIM_TIME_SCALE");
  const simTimeScale = scaleRaw === undefined ? 1 : Number(scaleRaw);
  if (!(simTimeScale > 0 && simTimeScale <= 1))
    problems.push(`SIM_TIME_SCALE: must be a number in (0, 1], got "${scaleRaw}"`);
  if (scaleRaw !== undefined && !simulate) problems.push("SIM_TIME_SCALE: only allowed with SANDBOX_SIMULATE=true");

  const issuer = get("AUTH_ISSUER");
  const audiences = (get("AUTH_AUDIENCE") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  const jwksUrl = get("AUTH_JWKS_URL");
  if (issuer === undefined)
    problems.push("AUTH_ISSUER: required (the token issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0)");
  if (audiences.length === 0)
    problems.push("AUTH_AUDIENCE: required (the API's application id URI or client id; comma-separated for several)");
  if (jwksUrl === undefined)
    problems.push("AUTH_JWKS_URL: required (e.g. https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys)");
  else if (!isHttpUrl(jwksUrl, simulate) || (jwksUrl.startsWith("http:") && !isLoopbackUrl(jwksUrl))) {
    problems.push(`AUTH_JWKS_URL: must be an https URL (http only to loopback in simulated mode), got "${jwksUrl}"`);
  }
  const algorithms = (get("AUTH_ALGORITHMS") ?? "RS256")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  const allowedAlgs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
  for (const alg of algorithms) {
    if (!allowedAlgs.includes(alg))
      problems.push(`AUTH_ALGORITHMS: "${alg}" is not an allowed asymmetric algorithm (${allowedAlgs.join(", ")})`);
  }
  const skewRaw = get("AUTH_CLOCK_SKEW_SECONDS");
  const clockSkewSeconds = skewRaw === undefined ? 300 : Number(skewRaw);
  if (!Number.isInteger(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > 300) {
    problems.push(`AUTH_CLOCK_SKEW_SECONDS: must be an integer from 0 to 300, got "${skewRaw}"`);
  }
  const teamClaim = get("AUTH_TEAM_CLAIM") ?? "team";

  const logLevelRaw = (get("LOG_LEVEL") ?? "info").toLowerCase();
  const logLevels = ["debug", "info", "warn", "error"] as const;
  const logLevel = logLevels.find((l) => l === logLevelRaw) ?? "info";
  if (!logLevels.some((l) => l === logLevelRaw))
    problems.push(`LOG_LEVEL: must be one of ${logLevels.join(", ")}, got "${logLevelRaw}"`);

  const intSetting = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const operations: OperationsConfiguration = Object.freeze({
    concurrency: intSetting("OPERATIONS_CONCURRENCY", 8, 1, 64),
    armBudgetPerMinute: intSetting("OPERATIONS_ARM_BUDGET_PER_MINUTE", 200, 1, 10000),
    retentionDays: intSetting("OPERATIONS_RETENTION_DAYS", 30, 30, 3650),
    claimSeconds: intSetting("OPERATIONS_CLAIM_SECONDS", 60, 5, 600),
    passSeconds: intSetting("OPERATIONS_PASS_SECONDS", 8, 1, 9),
  });

  const minKubernetesVersion = get("SANDBOX_MIN_KUBERNETES_VERSION") ?? "1.24.0";
  if (!/^\d+\.\d+(\.\d+)?$/.test(minKubernetesVersion))
    problems.push(
      `SANDBOX_MIN_KUBERNETES_VERSION: must be a version like 1.24 or 1.24.0, got "${minKubernetesVersion}"`,
    );

  const maxRequestBodyBytes = intSetting("SANDBOX_MAX_REQUEST_BODY_BYTES", 1024 * 1024, 1024, 16 * 1024 * 1024);
  const auditRetentionDays = intSetting("AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS, 1, 3650);

  // Required outside simulated mode: without it no team could be authorized.
  const policyFile = get("SANDBOX_POLICY_FILE") ?? (simulate ? simulatedPolicyFile() : undefined);
  let policy: SandboxPolicy | undefined;
  if (policyFile === undefined) {
    problems.push("SANDBOX_POLICY_FILE: required (the team policy JSON file; format in policy/policy.schema.json)");
  } else {
    const loaded = loadPolicyFile(policyFile);
    policy = loaded.policy;
    for (const problem of loaded.problems) problems.push(`SANDBOX_POLICY_FILE: ${problem}`);
  }

  const webhookSecretKey = get("WEBHOOK_SECRET_KEY");
  // Optional: without it (outside simulated mode) only the webhook routes answer 503; infra/ sets it.
  if (webhookSecretKey !== undefined && Buffer.from(webhookSecretKey, "base64").length !== 32) {
    problems.push("WEBHOOK_SECRET_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)");
  }

  if (problems.length > 0) throw new ConfigurationError(problems);

  return Object.freeze({
    tables,
    tablesConnectionString,
    tablesAllowInsecure,
    armEndpoint,
    azureAuthorityHost,
    flavor,
    simulate,
    simulatedCaCertPath,
    simTimeScale,
    auth: Object.freeze({
      issuer: issuer!,
      audiences: Object.freeze(audiences),
      jwksUrl: jwksUrl!,
      teamClaim,
      algorithms: Object.freeze(algorithms),
      clockSkewSeconds,
    }),
    policyFile,
    policy: policy!,
    dataDir: get("SANDBOX_DATA_DIR") ?? ".data",
    logLevel,
    operations,
    minKubernetesVersion,
    maxRequestBodyBytes,
    webhooks: Object.freeze({ secretKey: webhookSecretKey }),
    auditRetentionDays,
  });
}
