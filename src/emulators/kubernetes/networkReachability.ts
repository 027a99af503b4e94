/**
 * Whether a packet from a pod reaches a destination in a simulated AKS
 * cluster, following the cluster's network policy engine and the
 * NetworkPolicies that select the source (egress) and, for pod
 * destinations, the destination (ingress) — the standard
 * `networking.k8s.io/v1` semantics: a pod selected by no policy of a
 * direction is open in that direction; once selected, only what some rule
 * allows passes. Without an engine (`networkPolicy: none`) nothing is
 * enforced, as on AKS. Addresses of the simulated cluster:
 *
 * | name | address |
 * | --- | --- |
 * | Instance Metadata Service (IMDS) | 169.254.169.254:80 |
 * | Azure wireserver | 168.63.129.16:80 (and 32526) |
 * | API server | `kubernetes.default.svc` = 10.0.0.1:443 |
 * | cluster DNS (CoreDNS) | `kube-dns` 10.0.0.10:53 → pods `k8s-app=kube-dns` in `kube-system` |
 * | pods | their `status.podIP` (10.244.0.0/16) |
 * | anything else | "the internet": host names resolve to public addresses |
 *
 * Policies apply after service translation (as Cilium and Azure NPM do):
 * DNS is matched as the CoreDNS pods, the API server as its endpoint
 * address. `ipBlock` peers match addresses outside the cluster's pods.
 */
import type { KubeObject } from "./kubernetesObjects.js";
import { cidrContains, parseCidr } from "./namespacedObjectStore.js";

export const IMDS_IP = "169.254.169.254";
export const WIRESERVER_IP = "168.63.129.16";
export const API_SERVER_IP = "10.0.0.1";
export const DNS_SERVICE_IP = "10.0.0.10";
const DNS_POD_IP = "10.244.0.10";

/** A pod as the network sees it. */
export interface NetworkPod {
  name: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  ip: string | undefined;
  hostNetwork: boolean;
}

/** What the reachability check reads of the cluster. */
export interface NetworkView {
  /** The cluster's policy engine (`networkProfile.networkPolicy`): `none`, `azure`, `calico`, `cilium`. */
  engine: string;
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  pods(): readonly NetworkPod[];
  networkPolicies(namespace: string): readonly KubeObject[];
}

/** Where a connection goes. */
export interface Destination {
  kind: "imds" | "wireserver" | "apiserver" | "dns" | "pod" | "internet" | "private";
  host: string;
  ip: string;
  port: number;
  protocol: "TCP" | "UDP";
  pod?: NetworkPod;
}

/** The CoreDNS pods, as a destination of DNS traffic. */
const COREDNS: NetworkPod = {
  name: "coredns",
  namespace: "kube-system",
  labels: { "k8s-app": "kube-dns" },
  ip: DNS_POD_IP,
  hostNetwork: false,
};

const API_SERVER_NAMES = new Set([
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
]);

function ipNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8"].map((c) =>
  parseCidr(c)!,
);

/** A stable public address for an internet host name (example.com gets its real one). */
function publicAddress(host: string): string {
  if (host === "example.com" || host === "www.example.com") return "93.184.215.14";
  let hash = 0;
  for (const ch of host) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `20.${50 + (hash % 100)}.${(hash >> 8) % 256}.${1 + ((hash >> 16) % 250)}`;
}

/** Classifies `host:port`; host names other than the cluster's own need DNS (see {@link needsDns}). */
export function destinationOf(host: string, port: number, view: NetworkView): Destination {
  const base = { host, port, protocol: "TCP" as const };
  if (API_SERVER_NAMES.has(host) || host === API_SERVER_IP) return { ...base, kind: "apiserver", ip: API_SERVER_IP };
  if (host === IMDS_IP || host === "metadata.azure.internal") return { ...base, kind: "imds", ip: IMDS_IP };
  if (host === WIRESERVER_IP) return { ...base, kind: "wireserver", ip: WIRESERVER_IP };
  if (host === DNS_SERVICE_IP) return { ...base, kind: "dns", ip: DNS_POD_IP, pod: COREDNS };
  const number = ipNumber(host);
  if (number !== undefined) {
    const pod = view.pods().find((p) => p.ip === host && !p.hostNetwork);
    if (pod) return { ...base, kind: "pod", ip: host, pod };
    if (PRIVATE.some((c) => cidrContains(c, number))) return { ...base, kind: "private", ip: host };
    return { ...base, kind: "internet", ip: host };
  }
  return { ...base, kind: "internet", ip: publicAddress(host) };
}

/** True when `host` must be resolved through the cluster DNS first (a name the pod's resolver does not know locally). */
export function needsDns(host: string): boolean {
  return ipNumber(host) === undefined && !API_SERVER_NAMES.has(host) && host !== "metadata.azure.internal";
}

/** A DNS query from a pod (to CoreDNS over UDP 53). */
export function dnsDestination(): Destination {
  return { kind: "dns", host: "kube-dns", ip: DNS_POD_IP, port: 53, protocol: "UDP", pod: COREDNS };
}

interface LabelSelectorShape {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** `metav1.LabelSelector` semantics (an empty selector matches everything). */
export function selectorMatches(
  selector: LabelSelectorShape | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === "In" && !(has && (e.values ?? []).includes(value ?? ""))) return false;
    if (e.operator === "NotIn" && has && (e.values ?? []).includes(value ?? "")) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

interface Peer {
  ipBlock?: { cidr: string; except?: string[] };
  podSelector?: LabelSelectorShape;
  namespaceSelector?: LabelSelectorShape;
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  peers?: Peer[];
  ports?: PolicyPort[];
}
interface PolicySpec {
  podSelector?: LabelSelectorShape;
  policyTypes?: string[];
  ingress?: Array<{ from?: Peer[]; ports?: PolicyPort[] }>;
  egress?: Array<{ to?: Peer[]; ports?: PolicyPort[] }>;
}

function portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port !== "number") return false; // named ports: the simulated pods declare none
    return port >= p.port && port <= (p.endPort ?? p.port);
  });
}

/** Whether `peer` (seen from a policy in `policyNamespace`) covers the pod or address `other`. */
function peerMatches(
  peer: Peer,
  policyNamespace: string,
  other: { pod?: NetworkPod; ip: string },
  view: NetworkView,
): boolean {
  if (peer.ipBlock) {
    if (other.pod && other.pod !== COREDNS) return false;
    if (other.pod === COREDNS) return false;
    const ip = ipNumber(other.ip);
    const cidr = parseCidr(peer.ipBlock.cidr);
    if (ip === undefined || !cidr || !cidrContains(cidr, ip)) return false;
    return !(peer.ipBlock.except ?? []).some((e) => {
      const ex = parseCidr(e);
      return ex !== undefined && cidrContains(ex, ip);
    });
  }
  const pod = other.pod;
  if (!pod) return false;
  if (peer.namespaceSelector) {
    const labels = view.namespaceLabels(pod.namespace) ?? { "kubernetes.io/metadata.name": pod.namespace };
    if (!selectorMatches(peer.namespaceSelector, labels)) return false;
  } else if (pod.namespace !== policyNamespace) return false;
  return selectorMatches(peer.podSelector, pod.labels);
}

/** A direction's verdict for one pod: undefined when no policy selects it (open), else whether a rule allows. */
function policiesAllow(
  namespace: string,
  pod: NetworkPod,
  direction: "Ingress" | "Egress",
  allowedBy: (rule: Rule, policyNamespace: string) => boolean,
  view: NetworkView,
): { selected: boolean; allowed: boolean; policies: string[] } {
  const selecting = view.networkPolicies(namespace).filter((np) => {
    const spec = (np.spec ?? {}) as PolicySpec;
    return (spec.policyTypes ?? ["Ingress"]).includes(direction) && selectorMatches(spec.podSelector, pod.labels);
  });
  if (selecting.length === 0) return { selected: false, allowed: true, policies: [] };
  const allowed = selecting.some((np) => {
    const spec = (np.spec ?? {}) as PolicySpec;
    const rules: Rule[] =
      direction === "Egress"
        ? (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }))
        : (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }));
    return rules.some((rule) => allowedBy(rule, namespace));
  });
  return { selected: true, allowed, policies: selecting.map((np) => np.metadata.name ?? "") };
}

/** The verdict of one connection attempt, with the policies that decided it. */
export interface Reachability {
  reachable: boolean;
  /** Why, for logs and tests: `no network policy engine`, `denied by egress policy of …`, … */
  because: string;
}

/** Whether `source` reaches `destination` on the cluster described by `view`. */
export function reach(source: NetworkPod, destination: Destination, view: NetworkView): Reachability {
  if (view.engine === "none" || view.engine === "")
    return { reachable: true, because: "the cluster has no network policy engine" };
  if (source.hostNetwork) return { reachable: true, because: "host-network pods are not subject to NetworkPolicy" };
  const egress = policiesAllow(
    source.namespace,
    source,
    "Egress",
    (rule, ns) =>
      portMatches(rule.ports, destination.port, destination.protocol) &&
      (!rule.peers || rule.peers.length === 0 || rule.peers.some((p) => peerMatches(p, ns, destination, view))),
    view,
  );
  if (!egress.allowed)
    return {
      reachable: false,
      because: `egress denied by NetworkPolicy ${egress.policies.join(", ")} in ${source.namespace}`,
    };
  if (destination.pod && destination.pod !== COREDNS) {
    const target = destination.pod;
    const ingress = policiesAllow(
      target.namespace,
      target,
      "Ingress",
      (rule, ns) =>
        portMatches(rule.ports, destination.port, destination.protocol) &&
        (!rule.peers ||
          rule.peers.length === 0 ||
          rule.peers.some((p) => peerMatches(p, ns, { pod: source, ip: source.ip ?? "" }, view))),
      view,
    );
    if (!ingress.allowed)
      return {
        reachable: false,
        because: `ingress denied by NetworkPolicy ${ingress.policies.join(", ")} in ${target.namespace}`,
      };
  }
  return {
    reachable: true,
    because: egress.selected
      ? `allowed by NetworkPolicy ${egress.policies.join(", ")}`
      : "no NetworkPolicy selects the pod",
  };
}
