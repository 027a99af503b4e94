/**
 * `npm run token -- --team <t> --roles Sandbox.Submitter,Sandbox.Reader
 *   [--name <display name>] [--oid <id>] [--app-id <client id>] [--expires <seconds>]`
 *
 * Prints an access token from the local issuer (simulated mode only). The key
 * lives under `.data/local-issuer/`, shared with the running `npm start`.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isRole } from "../domain/identity/principal.js";
import { packageRoot } from "../packageRoot.js";
import { LocalTokenIssuer } from "./localTokenIssuer.js";

const { values } = parseArgs({
  options: {
    team: { type: "string" },
    roles: { type: "string", default: "Sandbox.Reader" },
    name: { type: "string" },
    oid: { type: "string" },
    "app-id": { type: "string" },
    expires: { type: "string", default: "3600" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    "usage: npm run token -- --team <team> --roles Sandbox.Reader,Sandbox.Submitter[,Sandbox.Operator,Sandbox.Admin] [--name N] [--oid ID] [--app-id ID] [--expires SECONDS]",
  );
  process.exit(0);
}
const roles = (values.roles ?? "")
  .split(",")
  .map((r) => r.trim())
  .filter(Boolean);
const unknown = roles.filter((r) => !isRole(r));
const expires = Number(values.expires);
const problems: string[] = [];
if (unknown.length > 0)
  problems.push(
    `--roles: unknown role(s) ${unknown.join(", ")}; known: Sandbox.Reader, Sandbox.Submitter, Sandbox.Operator, Sandbox.Admin`,
  );
if (!Number.isInteger(expires) || expires < 60 || expires > 86_400)
  problems.push("--expires: seconds from 60 to 86400");
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(2);
}
if (process.env.AUTH_ISSUER !== undefined && process.env.SANDBOX_SIMULATE !== "true") {
  console.error("npm run token mints tokens for the local issuer only (simulated mode); AUTH_ISSUER points elsewhere.");
  process.exit(2);
}
const issuer = await LocalTokenIssuer.open(resolve(packageRoot(), process.env.SANDBOX_DATA_DIR ?? ".data"));
const token = await issuer.mint({
  ...(values.team !== undefined ? { team: values.team } : {}),
  roles,
  ...(values.name !== undefined ? { name: values.name } : {}),
  ...(values.oid !== undefined ? { oid: values.oid } : {}),
  ...(values["app-id"] !== undefined ? { appId: values["app-id"] } : {}),
  expiresInSeconds: expires,
});
process.stdout.write(`${token}\n`);
