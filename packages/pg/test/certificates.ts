/**
 * TLS material made at test time with the machine's `openssl`: a CA and a server certificate it
 * signed (for 127.0.0.1 and localhost), written to a fresh directory.
 */
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

const openssl = (dir: string, args: ReadonlyArray<string>) =>
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })

export const makeCertificates = (): TestCertificates => {
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-tls-"))
  chmodSync(dir, 0o755)
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=effect-pool test CA"])
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
  openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf"])
  chmodSync(join(dir, "server.key"), 0o600)
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "server.crt"),
    keyFile: join(dir, "server.key"),
    dispose: () => rmSync(dir, { recursive: true, force: true })
  }
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
