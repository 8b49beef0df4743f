/**
 * Options → validated configuration: the engine's rules (`@effect-pool/engine` Config), with
 * Effect 4's `Duration.Input` and `PoolConfigError`.
 *
 * @internal
 */
import { Config } from "@effect-pool/engine"
import type * as Duration from "effect/Duration"
import type * as Result from "effect/Result"
import * as OptionCheck from "../OptionCheck.js"
import type { PoolConfigError } from "../PoolError.js"

export type PoolConfig = Config.PoolConfig
export type KeyedLimits = Config.KeyedLimits

/** The option fields `parseConfig` reads: the public options minus the effectful ones. */
export type ConfigInput = Config.ConfigInput<Duration.Input>

/** The keys `parseConfig` reads: every `ConfigInput` option. */
export const configKeys: ReadonlyArray<string> = Config.configKeys

/** The name a pool's errors carry, before its options are known to be valid. */
const labelOf = (input: unknown): string => OptionCheck.nameOf(input, Config.defaults.name)

/**
 * Validates and normalises options; a failure names the first bad option. `maxName` is what the
 * caller calls `max` (a keyed pool's `maxPerKey`), so errors name the option the user wrote.
 */
export const parseConfig = (input: ConfigInput, maxName = "max"): Result.Result<PoolConfig, PoolConfigError> =>
  OptionCheck.run(labelOf(input), (check) => Config.parse(check, input, maxName))

/** One duration option in ms, validated like the pool's own (for kind packages' options). */
export const durationOption = (
  pool: string,
  option: string,
  input: Duration.Input | undefined,
  fallback: Duration.Input
): Result.Result<number, PoolConfigError> => OptionCheck.run(pool, (check) => check.duration(option, input, fallback))

/** The limits only a keyed pool has, validated like the rest. */
export const parseKeyedLimits = (
  name: string,
  input: {
    readonly maxTotal?: number | undefined
    readonly maxIdleTotal?: number | undefined
    readonly idleKeyTimeout?: Duration.Input | undefined
  }
): Result.Result<KeyedLimits, PoolConfigError> => OptionCheck.run(name, (check) => Config.parseKeyedLimits(check, input))
