import { DEFAULT_SANDBOX_MEMORY_MIB, DEFAULT_SANDBOX_VCPU } from "../sandbox/poolCapacity.js";

/** The Kata VM a sandboxed pod gets (Pod Sandboxing docs: 1 vCPU + cpu limit, 2 GiB + memory limit). */
export interface SandboxVm {
  /** vCPUs of the sandbox VM. */
  vCpu: number;
  /** Memory of the sandbox VM, MiB. */
  memoryMiB: number;
}

/**
 * The sandbox VM size for a container's limits: `1 + limits.cpu` vCPU and
 * `2048 + limits.memory` MiB; without limits the default 1 vCPU / 2 GiB.
 * `requests` play no part (the preview runtime ignores them).
 * @param cpuLimit vCPU (already parsed), or undefined
 * @param memoryLimitMiB MiB (already parsed), or undefined
 */
export function sandboxVmFootprint(cpuLimit: number | undefined, memoryLimitMiB: number | undefined): SandboxVm {
  return {
    vCpu: Math.round((DEFAULT_SANDBOX_VCPU + (cpuLimit ?? 0)) * 1000) / 1000,
    memoryMiB: Math.ceil(DEFAULT_SANDBOX_MEMORY_MIB + (memoryLimitMiB ?? 0)),
  };
}

/** A sandbox node's allocatable resources. */
export interface SandboxNodeCapacity {
  name: string;
  allocatableMilliCpu: number;
  allocatableMemoryMiB: number;
}

/** True when at least one node can hold the VM (ignoring what already runs there). */
export function fitsSomeNode(vm: SandboxVm, nodes: readonly SandboxNodeCapacity[]): boolean {
  return nodes.some((n) => n.allocatableMilliCpu >= vm.vCpu * 1000 && n.allocatableMemoryMiB >= vm.memoryMiB);
}
