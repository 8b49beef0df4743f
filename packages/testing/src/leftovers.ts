/**
 * Run after the test suite (`npm test`): fails when a server process that our tests, examples or
 * benchmarks started is still running — embedded Postgres (its data directory is an
 * `effect-pool-pg-` temp dir) or PgBouncer (its ini is in an `effect-pool-pgbouncer-` temp dir).
 */
import { readdirSync, readFileSync } from "node:fs"

const ours = /effect-pool-pg-|effect-pool-pgbouncer-/

const leftovers = (): Array<string> => {
  const found: Array<string> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    let args: string
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim()
    } catch {
      continue // ended while we looked
    }
    if (ours.test(args) && /postgres|pgbouncer/.test(args) && Number(entry) !== process.pid) found.push(`${entry} ${args}`)
  }
  return found
}

// a server stopping right now may take a moment to go: look again for up to 5 s
const deadline = Date.now() + 5_000
let found = leftovers()
while (found.length > 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  found = leftovers()
}
if (found.length > 0) {
  console.error(`server processes left running after the tests:\n  ${found.join("\n  ")}`)
  process.exitCode = 1
} else {
  console.log("no server process left running")
}
