import { readFileSync } from "node:fs";

/**
 * Copies `Values` of a `local.settings.json` into `env` without overriding
 * what the environment already sets (as Core Tools do). Missing file: no-op.
 * @returns the names applied (never the values: they may be secrets).
 */
export function applyLocalSettings(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const values = (parsed as { Values?: Record<string, unknown> }).Values ?? {};
  const applied: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (
      env[name] === undefined &&
      (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    ) {
      env[name] = String(value);
      applied.push(name);
    }
  }
  return applied;
}
