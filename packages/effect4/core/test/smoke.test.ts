import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { State } from "@effect-pool/engine"
import { edition } from "../src/index.js"

describe("Effect 4 root", () => {
  it.effect("runs on Node 24 with effect 4 and the shared engine", () =>
    Effect.sync(() => {
      expect(edition).toBe("effect4")
      expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(24)
      expect(typeof State).toBe("object")
    })
  )
})
