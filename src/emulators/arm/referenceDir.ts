import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * Directory holding the shared reference documents (`arm/`, `kubernetes/`,
 * `vm-families.md`): `SHARED_REFERENCE_DIR` when set, else
 * `<repo root>/../shared/reference`, where the repo root is the nearest
 * ancestor of this module holding a `package.json`. Walking up (rather than a
 * fixed `../../..`) keeps it right both from `src/` under tsx and from
 * `dist/src/` once compiled. Cached after the first call.
 */
export function sharedReferenceDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.SHARED_REFERENCE_DIR;
  if (override) return resolve(override);
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) break;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("sharedReferenceDir: no package.json above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  cached = resolve(dir, "..", "shared", "reference");
  return cached;
}
