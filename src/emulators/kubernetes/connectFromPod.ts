/**
 * What a pod's container reaches on the simulated network (wget/curl in the
 * simulated command): DNS, then the destination, both through the cluster's
 * network policies (see {@link reach}), answered by the simulated endpoints.
 */
import type { ClusterState, PodRecord } from "./clusterState.js";
import type { NamespacedObjectStore } from "./namespacedObjectStore.js";
import {
  dnsDestination,
  destinationOf,
  needsDns,
  reach,
  type NetworkPod,
  type NetworkView,
} from "./networkReachability.js";
import type { ConnectRequest, ConnectResult } from "./simulatedCommand.js";
import { simulatedResponse } from "./simulatedEndpoints.js";

function networkView(state: ClusterState, objects: NamespacedObjectStore): NetworkView {
  return {
    engine: state.cluster.networkPolicy ?? "none",
    namespaceLabels: (namespace) => state.namespaces.get(namespace)?.metadata.labels,
    pods: () =>
      [...state.pods.values()]
        .filter((r) => !r.removed && r.pod.status?.podIP !== undefined)
        .map((r): NetworkPod => ({
          name: r.pod.metadata.name ?? "",
          namespace: r.pod.metadata.namespace ?? "",
          labels: r.pod.metadata.labels ?? {},
          ip: r.pod.status?.podIP,
          hostNetwork: r.pod.spec.hostNetwork === true,
        })),
    networkPolicies: (namespace) => objects.raw("networkpolicies", namespace),
  };
}

/** A connection from a pod's container (simulated wget/curl). */
export function connectFromPod(
  state: ClusterState,
  objects: NamespacedObjectStore,
  rec: PodRecord,
  request: ConnectRequest,
): ConnectResult {
  const view = networkView(state, objects);
  const source: NetworkPod = {
    name: rec.pod.metadata.name ?? "",
    namespace: rec.pod.metadata.namespace ?? "",
    labels: rec.pod.metadata.labels ?? {},
    ip: rec.pod.status?.podIP,
    hostNetwork: rec.pod.spec.hostNetwork === true,
  };
  if (needsDns(request.host) && !reach(source, dnsDestination(), view).reachable) return { outcome: "unresolved" };
  const destination = destinationOf(request.host, request.port, view);
  const verdict = reach(source, destination, view);
  if (!verdict.reachable) return { outcome: "timeout", ip: destination.ip };
  return simulatedResponse(destination.kind, destination.ip, request, state.cluster.location);
}
