import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The repository's `reference/` folder (official ARM swaggers and examples,
 * Kubernetes OpenAPI v3 documents, the VM family table; sources and licenses
 * in `reference/README.md`). The repository root is the nearest ancestor of
 * this module holding a `package.json`, so it resolves the same from `src/`
 * under tsx and from `dist/src/` once compiled. Only emulators and tests read
 * it; nothing here ever looks outside the repository.
 */
export function referenceDir(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) break;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("referenceDir: no package.json above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  cached = resolve(dir, "reference");
  return cached;
}
