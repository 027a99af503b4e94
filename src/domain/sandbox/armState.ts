/**
 * ARM state strings (`registrationState`, feature `state`,
 * `provisioningState`, `workloadRuntime`, `osSKU`) are case-insensitive on
 * the wire: ARM and resource providers answer `Succeeded`, `succeeded` or
 * `SUCCEEDED` alike. The adapters hand the domain the canonical spelling, so
 * every comparison in the domain can stay exact.
 */
const CANONICAL = [
  // Microsoft.Features / provider registration
  "NotRegistered",
  "Pending",
  "Registering",
  "Registered",
  "Unregistering",
  "Unregistered",
  // provisioningState
  "Succeeded",
  "Failed",
  "Canceled",
  "Creating",
  "Updating",
  "Scaling",
  "Upgrading",
  "Deleting",
  "Starting",
  "Stopping",
  "Migrating",
  "Accepted",
  "Running",
  // workloadRuntime / osSKU
  "OCIContainer",
  "WasmWasi",
  "KataMshvVmIsolation",
  "KataVmIsolation",
  "AzureLinux",
  "AzureLinux3",
  "Ubuntu",
  "CBLMariner",
  "Mariner",
  // pool mode
  "System",
  "User",
  "Gateway",
];
const BY_LOWER = new Map(CANONICAL.map((s) => [s.toLowerCase(), s]));

/** The canonical spelling of an ARM state string (unknown strings unchanged). */
export function canonicalArmState(value: string): string;
export function canonicalArmState(value: string | undefined): string | undefined;
export function canonicalArmState(value: string | undefined): string | undefined {
  return value === undefined ? undefined : (BY_LOWER.get(value.toLowerCase()) ?? value);
}

/** Case-insensitive equality of two ARM state strings. */
export function sameArmState(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}
