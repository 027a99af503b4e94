/** Which Pod Sandboxing generation the service drives: the preview (feature flag) or GA. */
export type SandboxFlavor = "preview" | "ga";

/**
 * The names Pod Sandboxing uses in one flavour. This module is the only place
 * that spells them: everything else asks {@link sandboxFlavor}.
 */
export interface SandboxFlavorNames {
  readonly flavor: SandboxFlavor;
  /** AKS agent pool `workloadRuntime`. */
  readonly workloadRuntime: string;
  /** Kubernetes RuntimeClass that sandboxed pods name. */
  readonly runtimeClassName: string;
  /** Microsoft.ContainerService api-version for clusters and agent pools. */
  readonly containerServiceApiVersion: string;
  /** Preview feature to register (namespace Microsoft.ContainerService), or undefined when none is needed (GA). */
  readonly feature: { readonly namespace: string; readonly name: string } | undefined;
  /** The only OS SKU Pod Sandboxing supports. */
  readonly osSku: "AzureLinux";
}

const PREVIEW: SandboxFlavorNames = Object.freeze({
  flavor: "preview",
  workloadRuntime: "KataMshvVmIsolation",
  runtimeClassName: "kata-mshv-vm-isolation",
  containerServiceApiVersion: "2026-10-02-preview",
  feature: Object.freeze({ namespace: "Microsoft.ContainerService", name: "KataVMIsolationPreview" }),
  osSku: "AzureLinux",
});

const GA: SandboxFlavorNames = Object.freeze({
  flavor: "ga",
  workloadRuntime: "KataVmIsolation",
  runtimeClassName: "kata-vm-isolation",
  containerServiceApiVersion: "2026-10-01",
  feature: undefined,
  osSku: "AzureLinux",
});

/** The names of a flavour (setting `SANDBOX_FLAVOR`, default `preview`). */
export function sandboxFlavor(flavor: SandboxFlavor): SandboxFlavorNames {
  return flavor === "ga" ? GA : PREVIEW;
}
