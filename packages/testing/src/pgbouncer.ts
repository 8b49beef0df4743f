/**
 * A real PgBouncer (Debian's package) in transaction mode in front of the test server.
 * It refuses to run as root, so as root it is spawned as the postgres user (which exists once
 * embedded Postgres has started) — directly with that uid, not through `runuser`, whose child
 * a signal to `runuser` never reached (every stopped bouncer was left running).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process"
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

const idOf = (flag: "-u" | "-g", user: string): number => Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim())

/** Every bouncer started and not yet stopped, stopped at the latest when this process exits. */
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

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
  const asPostgres = process.getuid?.() === 0 ? { uid: idOf("-u", "postgres"), gid: idOf("-g", "postgres") } : {}
  const child: ChildProcess = spawn(binary, [join(dir, "pgbouncer.ini")], { stdio: "ignore", ...asPostgres })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM") // immediate shutdown (SIGINT would wait for its clients)
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
      await exited
      clearTimeout(timer)
    }
    running.delete(child)
    rmSync(dir, { recursive: true, force: true })
  }
  // a start-up check that waits for the event (listening or exited), the deadline only a hang guard
  const deadline = Date.now() + 30_000
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`pgbouncer did not start (${child.exitCode === null ? "no listener after 30 s" : `exit code ${child.exitCode}`})`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url: `postgres://${server.username}:${server.password}@127.0.0.1:${port}${server.pathname}`,
    stop
  }
}
