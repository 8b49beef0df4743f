/** `PgClient.config` reports what the user gave, field for field as @effect/sql-pg 4's own layer does. */
import { describe, expect, it } from "@effect/vitest"
import { PgPool } from "@effect-pool/pg"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { pgUrl } from "./helpers.js"

/** A config as comparable data: secrets opened (both sides keep them Redacted, checked apart). */
const plain = (config: PgClient.PgClientConfig) =>
  Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Redacted.isRedacted(v) ? `redacted:${Redacted.value(v)}` : v])
  )

const configOf = (layer: Layer.Layer<PgClient.PgClient, unknown>) =>
  Effect.scoped(Effect.flatMap(Layer.build(layer), (context) => Effect.map(PgClient.PgClient, (c) => c.config).pipe(Effect.provideContext(context))))

describe("PgClient.config", () => {
  const url = () => new URL(pgUrl())
  const cases: Array<[string, () => PgClient.PgPoolConfig]> = [
    ["url only", () => ({ url: Redacted.make(pgUrl()) })],
    ["url with overrides, pool size and an application name", () => ({ url: Redacted.make(pgUrl()), database: "postgres", applicationName: "billing", maxConnections: 3 })],
    ["separate fields", () => ({
      host: url().hostname,
      port: Number(url().port),
      username: decodeURIComponent(url().username),
      password: Redacted.make(decodeURIComponent(url().password)),
      database: "postgres"
    })]
  ]
  for (const [name, options] of cases) {
    it.live(`matches @effect/sql-pg's for the same options: ${name}`, () =>
      Effect.gen(function*() {
        const theirs = yield* configOf(PgClient.layer(options()))
        const ours = yield* configOf(PgPool.layer(options()))
        expect(plain(ours)).toEqual(plain(theirs))
        if (options().password !== undefined) expect(Redacted.isRedacted(ours.password)).toBe(true)
        if (options().url !== undefined) expect(Redacted.isRedacted(ours.url)).toBe(true)
      }))
  }
})

describe("PgPool.layerConfig", () => {
  it.live("reads its options from Config", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pool = yield* PgPool.PgPool
      expect(yield* sql`SELECT 1 AS one`).toEqual([{ one: 1 }])
      expect((yield* pool.stats).max).toBe(2)
    }).pipe(Effect.provide(PgPool.layerConfig({ url: Config.succeed(Redacted.make(pgUrl())), max: Config.succeed(2) }))))

  it.live("a missing Config value fails the layer with a ConfigError; a bad one with a PoolConfigError", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Effect.scoped(Layer.build(PgPool.layerConfig({ url: Config.Redacted("E4PG_TEST_NO_SUCH_VARIABLE") }))))
      expect(missing._tag).not.toBe("PoolConfigError")
      const bad = yield* Effect.flip(Effect.scoped(Layer.build(PgPool.layerConfig({ url: Config.succeed(Redacted.make(pgUrl())), max: Config.succeed(0) }))))
      expect(bad).toMatchObject({ _tag: "PoolConfigError", option: "max" })
    }))
})
