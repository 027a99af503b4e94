import { readdirSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { installFunctionsCore } from "./functionsCoreShim.js";
import type { FunctionRegistry } from "./functionRegistry.js";

/**
 * Imports every registration module of the app — what `package.json` `main`
 * (`dist/functions/*.js`) names for the Functions host — with the core shim
 * installed first, and returns the registry they filled. From `src/` under
 * tsx it loads `functions/*.ts`; from `dist/src/` it loads `dist/functions/*.js`.
 */
export async function loadFunctionApp(): Promise<FunctionRegistry> {
  const registry = installFunctionsCore();
  const here = fileURLToPath(import.meta.url);
  const extension = extname(here);
  const functionsDir = join(dirname(here), "..", "..", "functions");
  const files = readdirSync(functionsDir)
    .filter((f) => f.endsWith(extension) && !f.endsWith(`.d${extension}`))
    .sort();
  for (const file of files) await import(pathToFileURL(join(functionsDir, file)).href);
  return registry;
}
