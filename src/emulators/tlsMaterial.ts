import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { generate } from "selfsigned";

/** A self-signed server certificate for 127.0.0.1 / localhost; it is its own CA. */
export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** Path of the PEM file clients should trust (the certificate itself). */
  caCertPath: string;
}

const CERT_FILE = "emulator-cert.pem";
const KEY_FILE = "emulator-key.pem";

/**
 * Loads the emulators' certificate from `dir`, or creates it there when absent
 * or expiring within a day. Reusing it lets a process started later
 * (`NODE_EXTRA_CA_CERTS` is read only at Node start) trust emulators started
 * now. Idempotent. The key file is written with mode 0600.
 */
export async function loadOrCreateTlsMaterial(dir: string): Promise<TlsMaterial> {
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
    const validTo = Date.parse(new X509Certificate(certPem).validTo);
    if (validTo - Date.now() > 24 * 3600 * 1000) return { certPem, keyPem, caCertPath: certPath };
  } catch {
    // absent or unreadable: create below
  }
  await mkdir(dir, { recursive: true });
  const notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: "commonName", value: "aks-pod-sandbox emulators" }], {
    keySize: 2048,
    algorithm: "sha256",
    notAfterDate: notAfter,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert);
  return { certPem: pems.cert, keyPem: pems.private, caCertPath: certPath };
}
