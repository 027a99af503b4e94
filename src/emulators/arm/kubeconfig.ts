/** Inputs of {@link buildKubeconfig}. */
export interface KubeconfigInput {
  clusterName: string;
  userName: string;
  /** API server URL, e.g. `https://127.0.0.1:<port>/clusters/<key>`. */
  server: string;
  /** PEM of the CA the client must trust (goes to `certificate-authority-data`). */
  caCertPem: string;
  /** Static bearer token of the cluster (used for `format: "token"`). */
  token: string;
  /** `token`: a static-token user; `exec`: a kubelogin exec user, as AKS returns for AAD clusters with `format=exec`. */
  format: "token" | "exec";
}

/** JSON-quotes a YAML scalar (JSON strings are valid YAML flow scalars). */
const q = (s: string): string => JSON.stringify(s);

/** Renders a kubeconfig (YAML) shaped like the ones AKS returns from `listClusterUserCredential`. */
export function buildKubeconfig(input: KubeconfigInput): string {
  const user =
    input.format === "exec"
      ? [
          "    exec:",
          "      apiVersion: client.authentication.k8s.io/v1beta1",
          "      command: kubelogin",
          "      args:",
          "      - get-token",
          "      - --login",
          "      - azurecli",
          "      - --server-id",
          "      - 6dae42f8-4368-4678-94ff-3960e28e3630",
          "      env: null",
          "      provideClusterInfo: false",
          "      interactiveMode: IfAvailable",
        ]
      : [`    token: ${q(input.token)}`];
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${Buffer.from(input.caCertPem, "utf8").toString("base64")}`,
    `    server: ${q(input.server)}`,
    `  name: ${q(input.clusterName)}`,
    "contexts:",
    "- context:",
    `    cluster: ${q(input.clusterName)}`,
    `    user: ${q(input.userName)}`,
    `  name: ${q(input.clusterName)}`,
    `current-context: ${q(input.clusterName)}`,
    "preferences: {}",
    "users:",
    `- name: ${q(input.userName)}`,
    "  user:",
    ...user,
    "",
  ].join("\n");
}
