import { randomUUID } from "node:crypto";

/**
 * Test-scriptable container outcomes. A script replaces what a matching
 * container would do (its command is then not interpreted): it prints
 * `logLines`, runs for `durationSeconds` of simulated time and exits with
 * `exitCode`, or fails in the way `reason` names.
 */
export interface OutcomeScript {
  /** All given criteria must match. `image` matches exactly or, as a RegExp, by test. */
  match: {
    image?: string | RegExp;
    /** Prefix of the pod name (a Job's pods are `<job>-<5 chars>`). */
    namePrefix?: string;
    namespace?: string;
    container?: string;
    /** SimulatedCloud cluster key. */
    clusterKey?: string;
  };
  /** Exit code of the container. Default 0 (137 for `OOMKilled`). */
  exitCode?: number;
  /** Lines written to the container log when it starts. Default none. */
  logLines?: string[];
  /** Simulated seconds the container runs before exiting. Default 0. */
  durationSeconds?: number;
  /**
   * `OOMKilled`: terminated with reason OOMKilled (exit 137).
   * `ErrImagePull` / `ImagePullBackOff`: the image never pulls; the container
   * stays waiting (pod Pending) with that reason and `message`.
   */
  reason?: "OOMKilled" | "ErrImagePull" | "ImagePullBackOff";
  /** Message for the failure (`reason`). */
  message?: string;
  /** Number of containers this script applies to before it is used up. Default unlimited. */
  times?: number;
}

/** Facts about a container that is about to start, for matching. */
export interface OutcomeTarget {
  clusterKey: string;
  namespace: string;
  podName: string;
  container: string;
  image: string;
}

/** The scripts registry of one emulator (`emulator.scripts`). */
export class OutcomeScripts {
  readonly #scripts: Array<{ id: string; script: OutcomeScript; remaining: number }> = [];

  /**
   * Adds a script and returns its id. When several match a container, the
   * most recently set one wins. Affects containers that start after the call.
   */
  set(script: OutcomeScript): string {
    const id = randomUUID();
    this.#scripts.push({ id, script, remaining: script.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  /** Removes one script; idempotent. */
  delete(id: string): void {
    const index = this.#scripts.findIndex((s) => s.id === id);
    if (index >= 0) this.#scripts.splice(index, 1);
  }

  /** Removes all scripts. */
  clear(): void {
    this.#scripts.length = 0;
  }

  /** The script for a starting container (consuming one of its `times`), if any. */
  take(target: OutcomeTarget): OutcomeScript | undefined {
    for (let i = this.#scripts.length - 1; i >= 0; i--) {
      const entry = this.#scripts[i];
      if (!entry || entry.remaining <= 0 || !matches(entry.script.match, target)) continue;
      entry.remaining--;
      return entry.script;
    }
    return undefined;
  }
}

function matches(match: OutcomeScript["match"], t: OutcomeTarget): boolean {
  if (
    match.image !== undefined &&
    !(typeof match.image === "string" ? match.image === t.image : match.image.test(t.image))
  )
    return false;
  if (match.namePrefix !== undefined && !t.podName.startsWith(match.namePrefix)) return false;
  if (match.namespace !== undefined && match.namespace !== t.namespace) return false;
  if (match.container !== undefined && match.container !== t.container) return false;
  if (match.clusterKey !== undefined && match.clusterKey !== t.clusterKey) return false;
  return true;
}
