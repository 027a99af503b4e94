/**
 * Pod Security Admission for the `restricted` and `baseline` levels, as the
 * API server's built-in plugin enforces them from the namespace labels
 * `pod-security.kubernetes.io/enforce` (and `…/enforce-version`). The checks
 * and their texts follow the upstream `pod-security-admission` policy
 * package; a rejection reads like the real one:
 * `pods "x" is forbidden: violates PodSecurity "restricted:latest": <check> (<detail>), …`.
 */
import type { PodSpec } from "./kubernetesObjects.js";

export const PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";
export const PSA_ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version";

interface SecurityContextShape {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}

interface ContainerShape {
  name: string;
  securityContext?: SecurityContextShape;
  ports?: Array<{ hostPort?: number }>;
}

/** `containers "a", "b"` / `container "a"`. */
function containers(names: string[]): string {
  return `${names.length === 1 ? "container" : "containers"} ${names.map((n) => `"${n}"`).join(", ")}`;
}

/** The failed checks of `spec` at `level` (empty when it passes), each as `<check> (<detail>)`. */
export function podSecurityViolations(spec: PodSpec, level: string): string[] {
  if (level !== "restricted" && level !== "baseline") return [];
  const out: string[] = [];
  const pod = (spec.securityContext ?? {}) as SecurityContextShape;
  const all = [...(spec.initContainers ?? []), ...spec.containers] as ContainerShape[];
  const sc = (c: ContainerShape): SecurityContextShape => c.securityContext ?? {};

  // ---- baseline
  const hostNamespaces = (["hostNetwork", "hostPID", "hostIPC"] as const).filter(
    (k) => (spec as Record<string, unknown>)[k] === true,
  );
  if (hostNamespaces.length) out.push(`host namespaces (${hostNamespaces.map((k) => `${k}=true`).join(", ")})`);
  const privileged = all.filter((c) => sc(c).privileged === true).map((c) => c.name);
  if (privileged.length)
    out.push(`privileged (${containers(privileged)} must not set securityContext.privileged=true)`);
  const baselineCaps = new Set([
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
  ]);
  const allowedCaps = level === "restricted" ? new Set(["NET_BIND_SERVICE"]) : baselineCaps;
  const addedCaps = all.flatMap((c) =>
    (sc(c).capabilities?.add ?? []).filter((cap) => !allowedCaps.has(cap)).map((cap) => ({ c: c.name, cap })),
  );
  const volumes = ((spec as { volumes?: Array<Record<string, unknown>> }).volumes ?? []).filter(
    (v) => v.hostPath !== undefined,
  );
  if (volumes.length)
    out.push(
      `hostPath volumes (${volumes.length === 1 ? "volume" : "volumes"} ${volumes.map((v) => `"${String(v.name)}"`).join(", ")})`,
    );
  const hostPorts = all.flatMap((c) =>
    (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({ c: c.name, port: p.hostPort })),
  );
  if (hostPorts.length) {
    out.push(
      `hostPort (${containers([...new Set(hostPorts.map((h) => h.c))])} uses ${hostPorts.length === 1 ? "hostPort" : "hostPorts"} ${hostPorts.map((h) => String(h.port)).join(", ")})`,
    );
  }
  if (level === "baseline") {
    if (addedCaps.length)
      out.push(
        `non-default capabilities (${containers([...new Set(addedCaps.map((a) => a.c))])} must not include ${addedCaps.map((a) => `"${a.cap}"`).join(", ")} in securityContext.capabilities.add)`,
      );
    return out;
  }

  // ---- restricted
  const escalation = all.filter((c) => sc(c).allowPrivilegeEscalation !== false).map((c) => c.name);
  if (escalation.length)
    out.push(
      `allowPrivilegeEscalation != false (${containers(escalation)} must set securityContext.allowPrivilegeEscalation=false)`,
    );
  const noDrop = all.filter((c) => !(sc(c).capabilities?.drop ?? []).includes("ALL")).map((c) => c.name);
  const capDetails: string[] = [];
  if (noDrop.length) capDetails.push(`${containers(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addedCaps.length) {
    capDetails.push(
      `${containers([...new Set(addedCaps.map((a) => a.c))])} must not include ${addedCaps.map((a) => `"${a.cap}"`).join(", ")} in securityContext.capabilities.add`,
    );
  }
  if (capDetails.length) out.push(`unrestricted capabilities (${capDetails.join("; ")})`);
  const podNonRoot = pod.runAsNonRoot === true;
  const explicitRoot = all.filter((c) => sc(c).runAsNonRoot === false).map((c) => c.name);
  const implicit = all.filter((c) => sc(c).runAsNonRoot === undefined && !podNonRoot).map((c) => c.name);
  if (pod.runAsNonRoot === false || explicitRoot.length) {
    const who = [
      ...(pod.runAsNonRoot === false ? ["pod"] : []),
      ...(explicitRoot.length ? [containers(explicitRoot)] : []),
    ];
    out.push(`runAsNonRoot != true (${who.join(" and ")} must not set securityContext.runAsNonRoot=false)`);
  } else if (implicit.length) {
    out.push(`runAsNonRoot != true (pod or ${containers(implicit)} must set securityContext.runAsNonRoot=true)`);
  }
  const rootUser = all.filter((c) => sc(c).runAsUser === 0).map((c) => c.name);
  if (pod.runAsUser === 0 || rootUser.length) {
    const who = [...(pod.runAsUser === 0 ? ["pod"] : []), ...(rootUser.length ? [containers(rootUser)] : [])];
    out.push(`runAsUser=0 (${who.join(" and ")} must not set runAsUser=0)`);
  }
  const okSeccomp = (t: string | undefined) => t === "RuntimeDefault" || t === "Localhost";
  const podSeccomp = okSeccomp(pod.seccompProfile?.type);
  const noSeccomp = all
    .filter((c) => (sc(c).seccompProfile?.type === undefined ? !podSeccomp : !okSeccomp(sc(c).seccompProfile?.type)))
    .map((c) => c.name);
  if (noSeccomp.length) {
    out.push(
      `seccompProfile (pod or ${containers(noSeccomp)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
    );
  }
  return out;
}

/** The rejection text after `pods "<name>" is forbidden: `, or undefined when the pod is admitted. */
export function podSecurityRejection(
  spec: PodSpec,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const level = namespaceLabels?.[PSA_ENFORCE_LABEL];
  if (level === undefined || level === "privileged") return undefined;
  const violations = podSecurityViolations(spec, level);
  if (violations.length === 0) return undefined;
  const version = namespaceLabels?.[PSA_ENFORCE_VERSION_LABEL] ?? "latest";
  return `violates PodSecurity "${level}:${version}": ${violations.join(", ")}`;
}
