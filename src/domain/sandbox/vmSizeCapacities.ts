import { poolCapacity, type PoolCapacity } from "./poolCapacity.js";
import type { SandboxArm } from "./sandboxArm.js";

/**
 * Capacity per VM size (lower-case) in a region (Compute SKU API, cached by
 * the adapter); sizes the API does not list get none.
 */
export async function capacitiesFor(
  arm: Pick<SandboxArm, "getVmSku">,
  subscriptionId: string,
  location: string,
  vmSizes: readonly (string | undefined)[],
  correlationId: string,
): Promise<Map<string, PoolCapacity>> {
  const out = new Map<string, PoolCapacity>();
  for (const size of new Set(vmSizes.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()))) {
    const sku = await arm.getVmSku(subscriptionId, location, size, { correlationId });
    if (sku) out.set(size, poolCapacity(sku.vCpus, sku.memoryGiB));
  }
  return out;
}
