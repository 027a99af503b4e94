// test: end-to-end (headless Chromium against a host process)
// The API reference page in a real browser: headless Chromium (Debian's
// `chromium`) loads /api/v1/docs from the local stack, every operation of the
// document appears, nothing is requested from another host, and "try it" on
// whoami with a token from `npm run token` answers 200. The screenshot is kept
// in test-artifacts/ (gitignored).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import puppeteer, { type Browser } from "puppeteer-core";
import { openApiOperations } from "../../../src/http/openApiDocument.js";
import { packageRoot } from "../../../src/packageRoot.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";

// The functions given to page.evaluate run in the browser; this program has no DOM types.
declare const document: {
  body: { innerText: string };
  querySelectorAll(selector: string): Iterable<{ textContent: string | null; offsetParent: unknown; click(): void }>;
};

const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const ARTIFACTS = join(packageRoot(), "test-artifacts");

let host: AppHost;
let browser: Browser;
before(async () => {
  assert.ok(CHROMIUM, "headless Chromium is needed: apt-get install -y chromium (or set CHROMIUM_PATH)");
  host = await startAppHost();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
});
after(async () => {
  await browser?.close();
  await host?.stop();
});

test(
  "the reference page shows every operation, loads nothing from elsewhere, and tries whoami with a pasted token",
  { timeout: 180_000 },
  async () => {
    // A token exactly as a user gets one: `npm run token` (the local issuer of the host's data dir).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        import.meta.resolve("tsx"),
        join(packageRoot(), "src/localhost/mintToken.ts"),
        "--team",
        "alpha",
        "--roles",
        "Sandbox.Reader",
        "--name",
        "Docs Tester",
      ],
      {
        env: { ...process.env, SANDBOX_DATA_DIR: host.dataDir },
      },
    );
    const token = stdout.trim();

    const page = await browser.newPage();
    // Generous: the machine is shared and the bundle is 4 MB of script to parse. Not a timing assertion.
    page.setDefaultTimeout(120_000);
    page.setDefaultNavigationTimeout(120_000);
    const requested: string[] = [];
    const whoamiStatuses: number[] = [];
    page.on("request", (r) => requested.push(r.url()));
    page.on("response", (r) => {
      if (new URL(r.url()).pathname === "/api/v1/whoami") whoamiStatuses.push(r.status());
    });
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(`${host.api}/docs`, { waitUntil: "load" });

    // Every operation of the document, by its summary (the navigation lists them all).
    await page.waitForFunction(() => document.body.innerText.includes("Who am I"), { timeout: 120_000 });
    const text = await page.evaluate(() => document.body.innerText);
    for (const [id, op] of openApiOperations())
      assert.ok(text.includes(String(op.operation.summary)), `${id} ("${op.operation.summary}") is on the page`);

    // Try it: paste the token, open whoami's request, send it.
    await page.type('input[placeholder="Token"]', token);
    await (await page.waitForSelector("::-p-text(Who am I)"))!.click();
    await (await page.waitForSelector("::-p-text(Test Request(get /v1/whoami))", { timeout: 120_000 }))!.click();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("button")].some(
          (b) => /^Send/.test((b.textContent ?? "").trim()) && b.offsetParent !== null,
        ),
      { timeout: 120_000 },
    );
    await page.evaluate(() => {
      const send = [...document.querySelectorAll("button")].find(
        (b) => /^Send/.test((b.textContent ?? "").trim()) && b.offsetParent !== null,
      );
      send!.click();
    });
    await page.waitForFunction(() => document.body.innerText.includes("Docs Tester"), { timeout: 120_000 });
    const after = await page.evaluate(() => document.body.innerText);
    assert.match(after, /200 OK/);
    assert.deepEqual(whoamiStatuses, [200]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "api-docs-try-whoami.png") });

    const origin = new URL(host.api).origin;
    const elsewhere = requested.filter(
      (u) => !u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:"),
    );
    assert.deepEqual(elsewhere, [], "the page requested nothing from another host");
  },
);
