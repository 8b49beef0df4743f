/** The Effect 4 shell: a pool as a `Context.Service` Layer, and `layerConfig` reading `Config`. */
import { describe, expect, it } from "@effect/vitest"
import { PoolConfigError } from "@effect-pool/core"
import { GrpcPool } from "@effect-pool/grpc"
import { startGrpcServer } from "@effect-pool/testing-effect4"
import { Config, ConfigProvider, Context, Effect, Layer } from "effect"
import { echoClient } from "./helpers.js"

class Echoes extends Context.Service<Echoes, GrpcPool.GrpcPool>()("Echoes") {}

const server = Effect.acquireRelease(Effect.promise(() => startGrpcServer({})), (s) => Effect.promise(s.close))

describe("GrpcPool layers", () => {
  it.live("layer: the pool is a scoped service; closing the layer closes its channels", () =>
    Effect.gen(function*() {
      const { port } = yield* server
      let pool: GrpcPool.GrpcPool | undefined
      const reply = yield* Effect.gen(function*() {
        pool = yield* Echoes
        return yield* echoClient(pool).unary({ text: "layer" })
      }).pipe(Effect.provide(GrpcPool.layer(Echoes, { target: `127.0.0.1:${port}`, name: "echoes", minChannels: 2 })))
      expect(reply.text).toBe("echo: layer")
      const stats = yield* GrpcPool.stats(pool!)
      expect(stats.name).toBe("echoes")
      expect(stats.closed).toBe(true)
      expect(stats.channels).toHaveLength(0)
    }).pipe(Effect.scoped))

  it.live("layerConfig reads its settings from Config; a bad one is a PoolConfigError naming it", () =>
    Effect.gen(function*() {
      const { port } = yield* server
      const live = GrpcPool.layerConfig(Echoes, {
        target: Config.String("ECHO_TARGET"),
        maxChannels: Config.Int("ECHO_CHANNELS"),
        acquireTimeout: Config.Duration("ECHO_ACQUIRE_TIMEOUT")
      })
      const provider = (env: Record<string, string>) => ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))
      const stats = yield* Effect.flatMap(Echoes, GrpcPool.stats).pipe(
        Effect.provide(live.pipe(Layer.provide(provider({ ECHO_TARGET: `127.0.0.1:${port}`, ECHO_CHANNELS: "3", ECHO_ACQUIRE_TIMEOUT: "2 seconds" }))))
      )
      expect(stats.max).toBe(3)
      const bad = yield* Effect.flip(Effect.flatMap(Echoes, GrpcPool.stats).pipe(
        Effect.provide(live.pipe(Layer.provide(provider({ ECHO_TARGET: `127.0.0.1:${port}`, ECHO_CHANNELS: "0", ECHO_ACQUIRE_TIMEOUT: "2 seconds" }))))
      ))
      expect(bad).toBeInstanceOf(PoolConfigError)
      expect((bad as PoolConfigError).option).toBe("maxChannels")
      const missing = yield* Effect.flip(Effect.flatMap(Echoes, GrpcPool.stats).pipe(
        Effect.provide(live.pipe(Layer.provide(provider({ ECHO_CHANNELS: "2", ECHO_ACQUIRE_TIMEOUT: "2 seconds" }))))
      ))
      expect((missing as { _tag: string })._tag).toBe("ConfigError")
    }).pipe(Effect.scoped))
})
