import { join } from "node:path";
import { packageRoot } from "../packageRoot.js";

/**
 * The demo subscription of simulated mode: `policy/simulated.policy.json`
 * allows teams `alpha` and `beta` on it (a test keeps the two in step).
 */
export const DEMO_SUBSCRIPTION_ID = "11111111-1111-1111-1111-111111111111";

/** The sample policy simulated mode uses when `SANDBOX_POLICY_FILE` is unset. */
export function simulatedPolicyFile(): string {
  return join(packageRoot(), "policy", "simulated.policy.json");
}
