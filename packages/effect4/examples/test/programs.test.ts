/**
 * The Effect 4 app runs as a user runs it (the built JavaScript, in a process of its own, on this
 * root's Node), with a small workload, and exits 0; Ctrl-C closes it cleanly; the flags are honoured.
 */
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { interruptWhilePlacing, runNode } from "../../../../examples/test/kit/processes.js"

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))
const run = (args: ReadonlyArray<string>) => runNode(main, args)

describe("the Effect 4 app's program (npm start)", () => {
  it("places the orders through the faults and reports them stored exactly once", async () => {
    const { code, output } = await run(["--orders", "150", "--concurrency", "8", "--duration", "60"])
    expect(output).toMatch(/starting on Effect 4 \(Node 2\d\./)
    expect(output).toMatch(/orders placed: 150 .*failed: 0/)
    expect(output).toMatch(/stored exactly once: yes/)
    expect(code).toBe(0)
  }, 150_000)

  it("Ctrl-C (SIGINT) while orders are placed: every pool closes, the servers stop, exit code 130 (Effect 4 runMain: interrupted)", async () => {
    const { code, output } = await interruptWhilePlacing(main)
    expect(output).toMatch(/interrupted: every pool closed, servers stopped/)
    // Effect 4's NodeRuntime.runMain exits 130 (128 + SIGINT) on an interruption; Effect 3's exits 0
    expect(code).toBe(130)
  }, 120_000)

  it("--help lists the flags; a bad flag value exits 2", async () => {
    const help = await run(["--help"])
    expect(help.code).toBe(0)
    for (const flag of ["--edition", "--duration", "--orders", "--concurrency", "--no-faults", "--database-url", "--metrics-port", "--help"]) expect(help.output).toContain(flag)
    const bad = await run(["--orders", "many"])
    expect(bad.code).toBe(2)
    expect(bad.output).toMatch(/--orders must be a positive number/)
  }, 30_000)
})
