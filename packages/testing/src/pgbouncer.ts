/**
 * A real PgBouncer (Debian's package) in transaction mode in front of the test server.
 * It refuses to run as root, hence `runuser -u postgres` (that user exists once embedded
 * Postgres has started).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "node:net"
import { freePort } from "./net.js"

export const pgbouncerBinary = (): string | undefined => {
  for (const path of ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]) {
    if (spawnSync(path, ["--version"]).status === 0) return path
  }
  return undefined
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

export interface Bouncer {
  readonly url: string
  readonly stop: () => Promise<void>
}

export const startPgbouncer = async (serverUrl: string): Promise<Bouncer> => {
  const binary = pgbouncerBinary()
  if (binary === undefined) throw new Error("pgbouncer is not installed (apt-get install pgbouncer)")
  const server = new URL(serverUrl)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-pgbouncer-"))
  chmodSync(dir, 0o777)
  const user = decodeURIComponent(server.username)
  const password = decodeURIComponent(server.password)
  writeFileSync(join(dir, "users.txt"), `"${user}" "${password}"\n`)
  writeFileSync(join(dir, "pgbouncer.ini"), [
    "[databases]",
    `* = host=${server.hostname} port=${server.port}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${join(dir, "users.txt")}`,
    "pool_mode = transaction",
    "default_pool_size = 4",
    "max_client_conn = 200",
    `pidfile = ${join(dir, "pgbouncer.pid")}`,
    `logfile = ${join(dir, "pgbouncer.log")}`
  ].join("\n"))
  for (const file of ["users.txt", "pgbouncer.ini"]) chmodSync(join(dir, file), 0o644)
  const child: ChildProcess = spawn("runuser", ["-u", "postgres", "--", binary, join(dir, "pgbouncer.ini")], { stdio: "ignore" })
  for (let i = 0; i < 100 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50))
  if (!(await listening(port))) throw new Error("pgbouncer did not start")
  return {
    url: `postgres://${server.username}:${server.password}@127.0.0.1:${port}${server.pathname}`,
    stop: async () => {
      child.kill("SIGINT")
      await new Promise((r) => setTimeout(r, 100))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
