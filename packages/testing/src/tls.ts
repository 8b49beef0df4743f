/**
 * A test certificate authority and a leaf certificate it signed, for names chosen by the test
 * (made at test time with openssl): verification against the right CA, a wrong name, SNI.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Certificate } from "./http.js"

export interface SignedCertificate extends Certificate {
  /** The CA's certificate (PEM), to pass as `ca`. */
  readonly ca: string
}

/** A CA, and a leaf certificate it signed with `subjectAltName` = `altNames` (e.g. `["DNS:localhost", "IP:127.0.0.1"]`). */
export const caSignedCertificate = (altNames: ReadonlyArray<string>): SignedCertificate => {
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-ca-"))
  const file = (name: string) => join(dir, name)
  const openssl = (...args: Array<string>) => execFileSync("openssl", args, { stdio: "ignore" })
  try {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=effect-pool test CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout", file("ca.key"), "-out", file("ca.pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=effect-pool test server",
      "-keyout", file("key.pem"), "-out", file("leaf.csr"))
    writeFileSync(file("ext.cnf"), `subjectAltName=${altNames.join(",")}\nbasicConstraints=CA:FALSE\n`)
    openssl("x509", "-req", "-in", file("leaf.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
      "-CAcreateserial", "-days", "1", "-extfile", file("ext.cnf"), "-out", file("cert.pem"))
    return {
      ca: readFileSync(file("ca.pem"), "utf8"),
      cert: readFileSync(file("cert.pem"), "utf8"),
      key: readFileSync(file("key.pem"), "utf8")
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
