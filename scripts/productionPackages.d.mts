// Types of scripts/productionPackages.mjs, for the TypeScript tests that import it.

/** One package of the app's production dependency closure. */
export interface ProductionPackage {
  /** Package name (`@scope/name`). */
  name: string;
  /** Version in package-lock.json. */
  version: string | undefined;
  /** Where the package goes in the app, relative to the root (`node_modules/a/node_modules/b`). */
  path: string;
  /** Where its files are in the checkout, relative to the root: `path`, or a linked workspace's folder. */
  source: string;
  /** Only optional edges lead to it (it may be missing on this platform). */
  optional: boolean;
  /** Named in `prune`: its dependencies were not followed. */
  pruned: boolean;
}

/** The subset of package-lock.json (v2/v3) read here. */
export interface PackageLock {
  packages: Record<string, LockEntry>;
}

export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  extraneous?: boolean;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export function productionPackages(lock: PackageLock, options?: { prune?: Iterable<string> }): ProductionPackage[];
