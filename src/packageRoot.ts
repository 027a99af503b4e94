import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The directory holding this package's package.json, found by walking up
 * from this module; the same from `src/` (tsx) and from `dist/src/` (built).
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "openapi"))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error("package root (package.json + openapi/) not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
