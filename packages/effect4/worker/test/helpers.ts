/**
 * Real worker files for the tests, written at test time under test/.workers/ (inside the package,
 * so that a worker module can import `effect` and `@effect-pool/worker`), and real-time waits
 * for what threads do on their own (start, exit) — pool timing stays on the TestClock.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { eventually } from "@effect-pool/testing-effect4"
import type { Effect } from "effect"

// one folder per test process, removed when it exits
const dir = fileURLToPath(new URL(`./.workers/${process.pid}/`, import.meta.url))
process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
let files = 0

/**
 * Writes a worker module (`.mjs`, `.cjs` for a CommonJS/piscina file, `.ts`); returns its path.
 * `scope` puts it in a folder whose package.json has that `type` (else test/package.json's: module).
 */
export const workerFile = (source: string, extension: "mjs" | "cjs" | "ts" = "mjs", scope?: "commonjs" | "module"): string => {
  const folder = scope === undefined ? dir : `${dir}${scope}/`
  mkdirSync(folder, { recursive: true })
  if (scope !== undefined) writeFileSync(`${folder}package.json`, JSON.stringify({ type: scope }))
  const path = `${folder}w${files++}.${extension}`
  writeFileSync(path, source)
  return path
}

/** A file a worker module appends a line to each time it is loaded (to count thread starts). */
export const startLog = () => {
  mkdirSync(dir, { recursive: true })
  const path = `${dir}starts${files++}.log`
  rmSync(path, { force: true })
  return {
    path,
    /** Source that appends to the log when the module loads. */
    record: `import { appendFileSync } from "node:fs"\nappendFileSync(${JSON.stringify(path)}, "start\\n")\n`,
    count: (): number => {
      try {
        return readFileSync(path, "utf8").split("\n").filter((l) => l === "start").length
      } catch {
        return 0
      }
    }
  }
}


/** Threads start and exit on their own: wait for it in real time (a generous hang guard). */
export const until = (what: string, check: Effect.Effect<boolean> | (() => boolean), ms = 20_000) => eventually(what, check, ms)
