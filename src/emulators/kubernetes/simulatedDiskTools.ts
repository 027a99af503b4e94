/**
 * `dd` and `fallocate` of the simulated container commands (see
 * `simulatedCommand.ts`): they write to the container's writable layer, which
 * the kubelet counts against the pod's ephemeral-storage limit.
 */
import type { SimulatedProcessContext } from "./simulatedCommand.js";

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  c: 1,
  w: 2,
  b: 512,
  k: 1024,
  K: 1024,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
};

function parseSize(text: string | undefined): number | undefined {
  const m = /^(\d+)([cwbkKMGT]?)(i?B)?$/.exec(text ?? "");
  if (!m) return undefined;
  return Number(m[1]) * (SIZE_UNITS[m[2] ?? ""] ?? 1);
}

function humanBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)}GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)}MB`;
  return `${(bytes / 1024).toFixed(1)}KB`;
}

/** `dd if=/dev/zero of=FILE bs=SIZE count=N` (writes bs×count bytes, a block at a time). */
export async function runDd(args: string[], ctx: SimulatedProcessContext): Promise<number> {
  const options = Object.fromEntries(args.map((a) => a.split("=", 2) as [string, string]));
  const block = parseSize(options.bs ?? "512") ?? 512;
  const count = options.count !== undefined ? Number(options.count) : Number.POSITIVE_INFINITY;
  const target = options.of;
  let written = 0;
  const chunk = Math.max(block, 64 * 2 ** 20);
  const total = block * count;
  while (written < total) {
    const bytes = Math.min(chunk, total - written);
    if (target && target !== "/dev/null") await ctx.writeDisk?.(bytes);
    written += bytes;
    await ctx.sleep(bytes / (512 * 2 ** 20));
  }
  const records = Math.round(written / block);
  ctx.writeLine(`${records}+0 records in`);
  ctx.writeLine(`${records}+0 records out`);
  ctx.writeLine(
    `${written} bytes (${humanBytes(written)}) copied, ${(written / (512 * 2 ** 20)).toFixed(6)} seconds, 512.0MB/s`,
  );
  return 0;
}

/** `fallocate -l SIZE FILE`. */
export async function runFallocate(args: string[], ctx: SimulatedProcessContext): Promise<number> {
  const i = args.indexOf("-l");
  const size = parseSize(args[i + 1]?.replace(/i?B$/, ""));
  if (i < 0 || size === undefined) {
    ctx.writeLine("fallocate: no length argument specified");
    return 1;
  }
  await ctx.writeDisk?.(size);
  return 0;
}
