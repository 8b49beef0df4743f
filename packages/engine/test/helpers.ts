/** Test helpers for the engine: configurations parsed by the engine's own rules, durations in ms. */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type * as grpc from "@grpc/grpc-js"
import * as Config from "../src/config.js"
import * as Options from "../src/options.js"

/** Durations are plain numbers of ms here (each edition supplies its own codec). */
export const millis: Options.DurationCodec = { decode: (input) => (typeof input === "number" ? input : undefined) }

export const checker = Options.makeChecker<number>(millis)

/** A validated configuration; throws on a bad option. */
export const config = (input: Config.ConfigInput<number> = {}): Config.PoolConfig => {
  const result = Options.checkWith(checker, (check) => Config.parse(check, input))
  if (result._tag === "Invalid") throw new Error(`${result.option} ${result.reason}`)
  return result.value
}

/**
 * The Effect 4 root's own copy of grpc-js (a second copy, not the engine's), from the nearest
 * ancestor directory with `effect4/package.json`: `packages/effect4` from this folder, and also
 * from Stryker's sandbox (a copy of this package a few folders deeper, where a fixed relative path
 * would miss it and resolve the engine's copy instead).
 */
export const effect4GrpcJs = (): typeof grpc => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, "effect4", "package.json")
    if (existsSync(manifest)) return createRequire(manifest)("@grpc/grpc-js")
    const parent = dirname(dir)
    if (parent === dir) throw new Error("no effect4/package.json above the engine's tests")
    dir = parent
  }
}
