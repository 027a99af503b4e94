import { supportedApiVersions } from "./armEmulatorSettings.js";
import { normalizeLocation } from "./armEmulatorState.js";
import type { ArmContext, ArmRoute } from "./armRoute.js";
import { toResourceSku } from "./vmSkuCatalogue.js";

/**
 * `Microsoft.Compute/skus` (ResourceSkus_List): the VM size catalogue, for
 * the location of `$filter=location eq '<loc>'` or for every configured
 * location.
 */
export function computeSkusRoutes(ctx: ArmContext): ArmRoute[] {
  return [
    {
      method: "GET",
      template: "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/skus",
      apiVersions: supportedApiVersions.computeSkus,
      handler: (r) => {
        const filter = r.query.get("$filter") ?? "";
        const m = /location\s+eq\s+'([^']*)'/i.exec(filter);
        const locations = m?.[1] !== undefined ? [normalizeLocation(m[1])] : ctx.settings.locations;
        return { status: 200, body: { value: ctx.settings.vmSkus.map((s) => toResourceSku(s, locations)) } };
      },
    },
  ];
}
