// The production dependency closure of the app, read from package-lock.json (lockfile v2/v3 `packages` map)
// instead of asking npm (`npm ls --omit=dev --all` takes tens of seconds on this tree) or installing again.
// scripts/package.mjs copies exactly these packages into the deployable zip; its test checks the zip against them.

/** Where Node looks for `name` from the package at lockfile key `from` (nearest `node_modules` first). */
function resolveFrom(packages, from, name) {
  let dir = from;
  for (;;) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return undefined;
    dir = dir.includes("/") ? dir.slice(0, dir.lastIndexOf("/")) : "";
  }
}

/**
 * Packages the root package needs at run time: its `dependencies` and `optionalDependencies`, their
 * non-optional `peerDependencies`, transitively, resolved as Node resolves them (nested `node_modules` first).
 * Workspaces are followed only when a dependency links to one (a workspace nothing depends on is a
 * development tool, not part of the app). Packages named in `prune` are kept (the caller copies only the files
 * it needs from them) but their own dependencies are not followed, so a package used only for a static asset
 * does not drag its whole tree along; a dependency they share with another kept package stays.
 *
 * @param {{ packages: Record<string, object> }} lock parsed package-lock.json
 * @param {{ prune?: Iterable<string> }} [options]
 * @returns {import("./productionPackages.d.mts").ProductionPackage[]} sorted by path
 */
export function productionPackages(lock, { prune = [] } = {}) {
  const packages = lock.packages;
  if (!packages || !packages[""]) throw new Error("package-lock.json has no `packages` map (lockfile v2+ needed)");
  const pruned = new Set(prune);
  /** Lockfile key of a workspace (a link's target) → the path its files take in the app (the link's path). */
  const linkTargets = new Map();
  const toPath = (key) => {
    for (const [target, path] of linkTargets) if (key.startsWith(`${target}/`)) return path + key.slice(target.length);
    return key;
  };
  /** @type {Map<string, import("./productionPackages.d.mts").ProductionPackage>} */
  const found = new Map();
  const queue = [""];
  while (queue.length > 0) {
    const from = queue.shift();
    const entry = packages[from];
    const edges = [
      ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
      ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
      ...Object.keys(entry.peerDependencies ?? {})
        .filter((name) => !entry.peerDependenciesMeta?.[name]?.optional)
        .map((name) => ({ name, optional: false })),
    ];
    for (const { name, optional } of edges) {
      const key = resolveFrom(packages, from, name);
      if (!key) {
        // Optional dependencies of another platform are not always in the lockfile.
        if (optional) continue;
        throw new Error(`${from || "the root package"} needs ${name}, which package-lock.json does not hold`);
      }
      if (found.has(key)) continue;
      let target = packages[key];
      let source = key;
      if (target.link) {
        source = target.resolved;
        linkTargets.set(source, toPath(key));
        target = packages[source];
        if (!target) throw new Error(`${key} links to ${source}, which package-lock.json does not hold`);
      }
      if (target.dev)
        throw new Error(`${key} is marked dev in package-lock.json but ${from || "the root package"} needs it`);
      const isPruned = pruned.has(name);
      found.set(key, {
        name,
        version: target.version,
        path: toPath(key),
        source,
        // npm's flags: reached from the root only through optional edges (devOptional: or else only by dev tools).
        optional: Boolean(target.optional || target.devOptional),
        pruned: isPruned,
      });
      if (!isPruned) queue.push(source);
    }
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
