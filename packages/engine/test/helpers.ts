/** Test helpers for the engine: configurations parsed by the engine's own rules, durations in ms. */
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
