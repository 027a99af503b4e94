import { test } from "node:test";
import assert from "node:assert/strict";
import { DnsWebhookTargetGuard, type HostResolver } from "../../../../src/adapters/webhooks/webhookTargetGuard.js";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";

// No real DNS: names resolve through this table.
const DNS: Record<string, string[]> = {
  "hooks.example.com": ["20.50.2.1"],
  "internal.example.com": ["10.1.2.3"],
  "sneaky.example.com": ["20.50.2.1", "169.254.169.254"],
  "v6-private.example.com": ["fd00::5"],
  "mapped.example.com": ["::ffff:127.0.0.1"],
};
const resolver: HostResolver = async (host) => {
  const addresses = DNS[host];
  if (!addresses) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
  return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

async function refusal(
  guard: DnsWebhookTargetGuard,
  url: string,
): Promise<{ code: string; message: string; target: string | undefined }> {
  try {
    await guard.check(url);
  } catch (error) {
    assert.ok(isSandboxError(error), String(error));
    return { code: error.code, message: error.message, target: error.target };
  }
  assert.fail(`${url} was allowed`);
}

test("outside simulated mode: metadata, private and loopback targets are refused with WebhookTargetNotAllowed", async () => {
  const guard = new DnsWebhookTargetGuard({ simulate: false, resolve: resolver });
  for (const url of [
    "https://169.254.169.254/metadata/instance",
    "http://10.0.0.1/hook",
    "https://10.0.0.1/hook",
    "https://internal.example.com/hook",
    "https://sneaky.example.com/hook",
    "https://v6-private.example.com/hook",
    "https://mapped.example.com/hook",
    "https://127.0.0.1:8443/hook",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://168.63.129.16/machine",
    "https://localhost/hook",
  ]) {
    const r = await refusal(guard, url);
    assert.equal(r.code, "WebhookTargetNotAllowed", url);
    assert.equal(r.target, "body.url");
  }
  assert.match(
    (await refusal(guard, "https://internal.example.com/x")).message,
    /"internal\.example\.com" resolves to 10\.1\.2\.3.*private/,
  );
  assert.match((await refusal(guard, "http://10.0.0.1/hook")).message, /https/);
  assert.match((await refusal(guard, "https://nowhere.example.com/x")).message, /does not resolve/);
  assert.match((await refusal(guard, "https://user:pw@hooks.example.com/x")).message, /credentials/);
  assert.match((await refusal(guard, "ftp://hooks.example.com/x")).message, /https/);
});

test("outside simulated mode: a public https target passes and vet returns the checked addresses", async () => {
  const guard = new DnsWebhookTargetGuard({ simulate: false, resolve: resolver });
  await guard.check("https://hooks.example.com/teams/alpha");
  assert.deepEqual(await guard.vet("https://hooks.example.com/x"), [{ address: "20.50.2.1", family: 4 }]);
  assert.deepEqual(await guard.vet("https://8.8.8.8/x"), [{ address: "8.8.8.8", family: 4 }]);
});

test("simulated mode: http and https to loopback are allowed, http elsewhere and metadata are not", async () => {
  const guard = new DnsWebhookTargetGuard({ simulate: true, resolve: resolver });
  await guard.check("http://127.0.0.1:9999/hook");
  await guard.check("http://localhost:9999/hook");
  await guard.check("https://127.0.0.1:9999/hook");
  assert.equal((await refusal(guard, "http://hooks.example.com/hook")).code, "WebhookTargetNotAllowed");
  assert.equal((await refusal(guard, "https://169.254.169.254/x")).code, "WebhookTargetNotAllowed");
  assert.equal((await refusal(guard, "https://internal.example.com/x")).code, "WebhookTargetNotAllowed");
});
