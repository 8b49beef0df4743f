/**
 * TLS material made at test time with the machine's `openssl`: a CA and a server certificate it
 * signed (for 127.0.0.1 and localhost), written to a fresh directory.
 */
import { caSignedCertificate } from "@effect-pool/testing-effect4"
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface TestCertificates {
  readonly dir: string
  /** PEM files. */
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  readonly dispose: () => void
}

/** The testing package's CA-signed certificate, written to files (Postgres and `sslrootcert` read files). */
export const makeCertificates = (): TestCertificates => {
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-tls-"))
  chmodSync(dir, 0o755)
  const signed = caSignedCertificate(["IP:127.0.0.1", "DNS:localhost"])
  const certificates = {
    dir,
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "server.crt"),
    keyFile: join(dir, "server.key"),
    dispose: () => rmSync(dir, { recursive: true, force: true })
  }
  writeFileSync(certificates.caFile, signed.ca)
  writeFileSync(certificates.certFile, signed.cert)
  writeFileSync(certificates.keyFile, signed.key, { mode: 0o600 })
  return certificates
}

/**
 * Turns TLS on in a running server (ssl is reloadable): as root the server runs as `postgres`,
 * which must own the key.
 */
export const serverTlsCommands = (certs: TestCertificates): ReadonlyArray<string> => {
  if (process.getuid?.() === 0) {
    execFileSync("chown", ["postgres", certs.certFile, certs.keyFile])
  }
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`
  return [
    `ALTER SYSTEM SET ssl_cert_file = ${quote(certs.certFile)}`,
    `ALTER SYSTEM SET ssl_key_file = ${quote(certs.keyFile)}`,
    "ALTER SYSTEM SET ssl = on",
    "SELECT pg_reload_conf()"
  ]
}
