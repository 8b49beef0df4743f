/**
 * Every program in examples/ runs, as a user runs it (the built JavaScript, in a process of its
 * own), with small workloads, and exits 0; the CLI's flags are honoured.
 */
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { interruptWhilePlacing, runNode } from "./kit/processes.js"

const dist = fileURLToPath(new URL("../dist/", import.meta.url))
const run = (script: string, args: ReadonlyArray<string> = [], env: Record<string, string> = {}) => runNode(`${dist}${script}`, args, { env })

describe("example programs", () => {
  it("npm start (app/main.js): places the orders through the faults and reports them stored exactly once", async () => {
    const { code, output } = await run("app/main.js", ["--orders", "150", "--concurrency", "8", "--duration", "60"])
    expect(output).toMatch(/orders placed: 150 .*failed: 0/)
    expect(output).toMatch(/stored exactly once: yes/)
    expect(code).toBe(0)
  }, 150_000)

  it("Ctrl-C (SIGINT) while orders are placed: every pool closes, the servers stop, exit code 0", async () => {
    const { code, output } = await interruptWhilePlacing(`${dist}app/main.js`)
    expect(output).toMatch(/interrupted: every pool closed, servers stopped/)
    expect(code).toBe(0)
  }, 120_000)

  it("npm start -- --help lists the flags; a bad flag value exits 2", async () => {
    const help = await run("app/main.js", ["--help"])
    expect(help.code).toBe(0)
    for (const flag of ["--duration", "--orders", "--concurrency", "--no-faults", "--database-url", "--help"]) expect(help.output).toContain(flag)
    const bad = await run("app/main.js", ["--orders", "many"])
    expect(bad.code).toBe(2)
    expect(bad.output).toMatch(/--orders must be a positive number/)
  }, 30_000)

  it("npm start (start.js) runs the Effect 4 app on the Effect 4 root's Node; --edition 3 the Effect 3 app; a bad edition exits 2", async () => {
    const small = ["--orders", "40", "--concurrency", "4", "--duration", "60", "--no-faults"]
    const e4 = await run("start.js", ["app", ...small])
    expect(e4.output).toMatch(/starting on Effect 4 \(Node (2[4-9]|[3-9]\d)\./)
    expect(e4.output).toMatch(/orders placed: 40 .*failed: 0/)
    expect(e4.code).toBe(0)
    const e3 = await run("start.js", ["app", "--edition", "3", ...small])
    expect(e3.output).toMatch(/starting on Effect 3:/)
    expect(e3.output).toMatch(/stored exactly once: yes/)
    expect(e3.code).toBe(0)
    const bad = await run("start.js", ["app", "--edition", "2"])
    expect(bad.code).toBe(2)
  }, 150_000)

  it("npm run demos: the side-by-side workloads", async () => {
    const { code, output } = await run("main.js", [], { SIM_BORROWS: "300", PG_TRANSACTIONS: "200", HTTP_REQUESTS: "300", TILES: "40", GRPC_CALLS: "200" })
    expect(output).toMatch(/summary/)
    expect(code).toBe(0)
  }, 150_000)

  for (const [script, env, expected] of [
    ["pg-example.js", {}, /pool "pg": \d+ connection/],
    ["http-example.js", {}, /100 responses/],
    ["worker-example.js", { TILES: "60" }, /60 tiles, 0 failed/],
    ["grpc-example.js", { GRPC_CALLS: "200" }, /200 calls, 0 failed/]
  ] as const) {
    it(`npm run ${script.replace("-example.js", "")}`, async () => {
      const { code, output } = await run(script, [], env)
      expect(output).toMatch(expected)
      expect(code).toBe(0)
    }, 120_000)
  }
})
