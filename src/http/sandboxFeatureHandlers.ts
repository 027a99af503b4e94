import type { OperationHandler } from "./operationHandler.js";
import type { ServicesSource } from "./httpServices.js";
import { outcomeResult } from "./operationResults.js";

/** Handlers of the sandbox-feature routes (`SandboxFeatureService`). */
export function sandboxFeatureHandlers(services: ServicesSource<"sandboxFeature" | "operations">) {
  /** `getSandboxFeature`: the feature's and the provider's registration state. */
  const getSandboxFeature: OperationHandler = async ({ params, principal, requestId }) => ({
    status: 200,
    body: await services().sandboxFeature.get(params.subscriptionId ?? "", { principal, requestId }),
  });

  /** `registerSandboxFeature`: 200 with the state when nothing is to be done, else 202 `RegisterSandboxFeature`. */
  const registerSandboxFeature: OperationHandler = async ({ params, principal, requestId }) => {
    const s = services();
    return outcomeResult(
      await s.sandboxFeature.register(params.subscriptionId ?? "", { principal, requestId }),
      s.operations,
    );
  };

  return { getSandboxFeature, registerSandboxFeature };
}
