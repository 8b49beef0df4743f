/**
 * The multi-server kit on real servers: a read-only-by-default server, a REAL hot standby made
 * from a stopped primary's data directory (it streams the primary's writes), its promotion and a
 * switchover.
 */
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import { startServer, startServerWith, startStandby, switchover, type TestServer } from "../dist/postgres.js"

const servers: Array<TestServer> = []
afterAll(() => Promise.all(servers.map((s) => s.dispose())))

const query = async (url: string, sql: string): Promise<Array<Record<string, unknown>>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

const eventually = async (check: () => Promise<boolean>): Promise<void> => {
  for (;;) {
    if (await check().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe("multi-server kit", () => {
  it("a server with settings is read-only by default", async () => {
    const server = await startServerWith({ settings: { default_transaction_read_only: "on" } })
    servers.push(server)
    expect(await query(server.url, "SHOW default_transaction_read_only")).toEqual([
      { default_transaction_read_only: "on" }
    ])
    await expect(query(server.url, "CREATE TABLE t (x int)")).rejects.toMatchObject({ code: "25006" })
  }, 120_000)

  it("a standby streams the primary's writes, refuses its own, and takes them once promoted after a switchover", async () => {
    const primary = await startServer()
    servers.push(primary)
    await query(primary.url, "CREATE TABLE kit (x int)")
    const standby = await startStandby(primary)
    servers.push(standby)
    expect(await query(standby.url, "SELECT pg_is_in_recovery() AS r")).toEqual([{ r: true }])
    expect(await query(primary.url, "SELECT pg_is_in_recovery() AS r")).toEqual([{ r: false }])
    await query(primary.url, "INSERT INTO kit VALUES (1)")
    await eventually(async () => (await query(standby.url, "SELECT count(*)::int AS n FROM kit"))[0]!.n === 1)
    await expect(query(standby.url, "INSERT INTO kit VALUES (2)")).rejects.toMatchObject({ code: "25006" })

    await switchover(primary, standby)
    expect(await query(standby.url, "SELECT pg_is_in_recovery() AS r")).toEqual([{ r: false }])
    await query(standby.url, "INSERT INTO kit VALUES (2)")
    expect(await query(standby.url, "SELECT x FROM kit ORDER BY x")).toEqual([{ x: 1 }, { x: 2 }])
    await expect(query(primary.url, "SELECT 1")).rejects.toThrow()
  }, 120_000)
})
