/**
 * The CLI's saved login (`aks-sandbox login`): endpoint and how to get a
 * token. Kept in `$XDG_CONFIG_HOME/aks-sandbox/config.json` (default
 * `~/.config`), readable by the user only (like the Azure CLI's token cache).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface CliConfig {
  endpoint?: string;
  /** `simulated`: a token minted by the local issuer (saved); `entra`: a credential asked at each run. */
  mode?: "simulated" | "entra";
  token?: string;
  /** Entra: the API's scope, e.g. `api://<app-id>/.default`. */
  scope?: string;
  /** Entra: `device-code` or `azure-cli`. */
  credential?: "device-code" | "azure-cli";
  tenantId?: string;
  clientId?: string;
  subscription?: string;
  resourceGroup?: string;
}

export function configPath(): string {
  return (
    process.env.AKS_SANDBOX_CONFIG ??
    join(process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "aks-sandbox", "config.json")
  );
}

export function readConfig(): CliConfig {
  try {
    return JSON.parse(readFileSync(configPath(), "utf8")) as CliConfig;
  } catch {
    return {};
  }
}

export function writeConfig(config: CliConfig): void {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
