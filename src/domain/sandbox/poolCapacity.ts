/** Pod Sandboxing's default sandbox VM (docs: 1 vCPU and 2 GiB when a container sets no limits). */
export const DEFAULT_SANDBOX_VCPU = 1;
export const DEFAULT_SANDBOX_MEMORY_MIB = 2048;

export interface PoolCapacity {
  vCpuPerNode: number;
  memoryGiBPerNode: number;
  /** How many default sandboxes (1 vCPU, 2 GiB) fit on one node, by the scarcer resource. */
  defaultSandboxesPerNode: number;
}

/** Capacity of one node of a size, from the SKU API's vCPUs and MemoryGB. */
export function poolCapacity(vCpuPerNode: number, memoryGiBPerNode: number): PoolCapacity {
  const byCpu = Math.floor(vCpuPerNode / DEFAULT_SANDBOX_VCPU);
  const byMemory = Math.floor((memoryGiBPerNode * 1024) / DEFAULT_SANDBOX_MEMORY_MIB);
  return { vCpuPerNode, memoryGiBPerNode, defaultSandboxesPerNode: Math.max(0, Math.min(byCpu, byMemory)) };
}
