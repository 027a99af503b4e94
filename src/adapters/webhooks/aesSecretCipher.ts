import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SandboxError } from "../../domain/sandboxError.js";
import type { SecretCipher } from "../../domain/webhooks/webhookPorts.js";

const VERSION = "v1";

/** Parses a 256-bit key given as base64 (what WEBHOOK_SECRET_KEY holds). */
export function parseSecretKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32)
    throw new Error("WEBHOOK_SECRET_KEY must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)");
  return key;
}

/**
 * The simulated mode's key: read from `path`, created (mode 0600) on first
 * use. Real deployments set WEBHOOK_SECRET_KEY instead (a Key Vault
 * reference in the Function App settings).
 */
export function loadOrCreateKeyFile(path: string): Buffer {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(path, 0o600);
  return parseSecretKey(readFileSync(path, "utf8"));
}

/**
 * {@link SecretCipher} with AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`
 * (base64url), the context bound as additional authenticated data, so a
 * sealed secret copied onto another subscription's row does not open.
 * The key is loaded on first use: without one, webhook calls fail with 503
 * and the rest of the API keeps working.
 */
export class AesSecretCipher implements SecretCipher {
  readonly #loadKey: () => Buffer;
  #key: Buffer | undefined;

  constructor(key: Buffer | (() => Buffer)) {
    this.#loadKey = typeof key === "function" ? key : () => key;
  }

  #keyOrThrow(): Buffer {
    if (this.#key) return this.#key;
    try {
      this.#key = this.#loadKey();
      return this.#key;
    } catch (error) {
      throw new SandboxError(
        "ServiceUnavailable",
        "Webhook secrets cannot be protected: WEBHOOK_SECRET_KEY is not set or not valid (see README, Webhooks).",
        {
          retryAfterSeconds: 60,
          cause: error,
        },
      );
    }
  }

  seal(secret: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#keyOrThrow(), iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return [
      VERSION,
      iv.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
      ciphertext.toString("base64url"),
    ].join(".");
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(".");
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error("not a sealed webhook secret");
    const decipher = createDecipheriv("aes-256-gcm", this.#keyOrThrow(), Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  }
}
