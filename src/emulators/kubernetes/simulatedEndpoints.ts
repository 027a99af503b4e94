/**
 * What the simulated cluster's well-known endpoints answer once a connection
 * gets through: plausible bodies of IMDS, the wireserver, the API server
 * (anonymous: 401), the internet (example.com's page) and pods (no server
 * listens in a simulated pod: connection refused). No body carries a real
 * credential; the IMDS token is marked as simulated.
 */
import type { Destination } from "./networkReachability.js";
import type { ConnectRequest, ConnectResult } from "./simulatedCommand.js";

export function simulatedResponse(
  kind: Destination["kind"],
  ip: string,
  request: ConnectRequest,
  location: string,
): ConnectResult {
  switch (kind) {
    case "imds":
      if (request.path.includes("/identity/oauth2/token")) {
        return ok(
          ip,
          JSON.stringify({
            access_token: "simulated-imds-token",
            expires_in: "86399",
            resource: "https://management.azure.com/",
            token_type: "Bearer",
          }),
        );
      }
      return ok(
        ip,
        JSON.stringify({
          compute: {
            azEnvironment: "AzurePublicCloud",
            location,
            name: "aks-sandbox-vmss_0",
            osType: "Linux",
            vmSize: "Standard_D4s_v3",
          },
        }),
      );
    case "wireserver":
      return ok(
        ip,
        '<?xml version="1.0" encoding="utf-8"?>\n<Versions><Preferred><Version>2015-04-05</Version></Preferred><Supported><Version>2015-04-05</Version><Version>2012-11-30</Version></Supported></Versions>',
      );
    case "apiserver":
      return {
        outcome: "ok",
        ip,
        status: 401,
        statusText: "Unauthorized",
        body: JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "Unauthorized",
          reason: "Unauthorized",
          code: 401,
        }),
      };
    case "internet":
      return ok(
        ip,
        "<!doctype html>\n<html>\n<head>\n    <title>Example Domain</title>\n</head>\n<body>\n<div>\n    <h1>Example Domain</h1>\n</div>\n</body>\n</html>",
      );
    case "dns":
    case "pod":
    case "private":
      return { outcome: "refused", ip };
  }
}

function ok(ip: string, body: string): ConnectResult {
  return { outcome: "ok", ip, status: 200, statusText: "OK", body };
}
