/**
 * Real worker files for both editions' worker tests, written at test time into a folder the
 * caller names — inside its own package (`test/.workers/`), so that a worker module resolves that
 * edition's `effect` and `@effect-pool/worker` — and the start log a module appends to when it
 * loads (to count thread starts). No effect import; the editions add their own waits.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export interface WorkerFiles {
  /**
   * Writes a worker module (`.mjs`, `.cjs` for a CommonJS/piscina file, `.ts`); returns its path.
   * `scope` puts it in a folder whose package.json has that `type` (else the nearest package.json's).
   */
  readonly workerFile: (source: string, extension?: "mjs" | "cjs" | "ts", scope?: "commonjs" | "module") => string
  /** A file a worker module appends a line to each time it is loaded (to count thread starts). */
  readonly startLog: () => {
    readonly path: string
    /** Source that appends to the log when the module loads. */
    readonly record: string
    readonly count: () => number
  }
}

/**
 * Worker files under `folder` (a directory URL ending in `/`), in a subfolder for this test
 * process that is removed when it exits.
 */
export const workerFiles = (folder: URL): WorkerFiles => {
  const dir = fileURLToPath(new URL(`./${process.pid}/`, folder))
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
  let files = 0
  return {
    workerFile: (source, extension = "mjs", scope) => {
      const target = scope === undefined ? dir : `${dir}${scope}/`
      mkdirSync(target, { recursive: true })
      if (scope !== undefined) writeFileSync(`${target}package.json`, JSON.stringify({ type: scope }))
      const path = `${target}w${files++}.${extension}`
      writeFileSync(path, source)
      return path
    },
    startLog: () => {
      mkdirSync(dir, { recursive: true })
      const path = `${dir}starts${files++}.log`
      rmSync(path, { force: true })
      return {
        path,
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
  }
}

/** Removes the worker files earlier runs wrote under `folder` (a test process may be ended before it cleans up): a vitest globalSetup. */
export const removeWorkerFiles = (folder: URL): void => {
  rmSync(fileURLToPath(folder), { recursive: true, force: true })
}

/**
 * The benchmarks' worker module (`export default ({ a, b }) => a + b`, `cpu({ ms })`: about `ms`
 * of CPU work), the same file for piscina, tinypool and both editions' pools.
 */
export const benchTasksPath = fileURLToPath(new URL("../workers/tasks.mjs", import.meta.url))

/**
 * The path of one of piscina's own test fixtures (piscina 5.3.2's `test/fixtures/`, unchanged,
 * MIT: packages/testing/piscina/test/fixtures/LICENSE), which both editions' ports of piscina's suite
 * run; packages/testing/piscina/ (as piscina's repository: test/fixtures/ in it) stands in for
 * piscina's package root, which they import by path (`../..`, `../../dist`).
 */
export const piscinaFixture = (name: string): string => fileURLToPath(new URL(`../piscina/test/fixtures/${name}`, import.meta.url))
