/**
 * Several backends, measured (a script, not a test): `node --import tsx bench/backends.ts`.
 * - spread: 3000 unary calls (30 at a time) over 3 servers, with this pool's channel per address
 *   (`loadBalancing: "round_robin"`) and with each channel on the whole target under grpc-js's
 *   own `round_robin` service config (`loadBalancing: "pick_first"` + `grpc.service_config`);
 * - healing: one server killed under load (12 callers, 5 ms calls): calls failed in the 3 s after;
 * - single address: CPU µs per sequential call, round_robin (resolved, one backend) vs pick_first
 *   (the old path), alternated in one process.
 */
import { GrpcPool } from "@effect-pool/grpc"
import { echoPackage, startGrpcServers } from "@effect-pool/testing"
import { Effect, Exit, Fiber } from "effect"

const { Echo } = echoPackage()
const serviceConfig = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] })

interface EchoApi {
  readonly unary: GrpcPool.Unary<{ text: string; delayMs?: number }, { text: string }>
}

const variants = (target: string): Record<string, GrpcPool.Options> => ({
  "channel per address": { target, minChannels: 3, maxChannels: 6 },
  "round_robin service config per channel": {
    target,
    minChannels: 3,
    maxChannels: 6,
    loadBalancing: "pick_first",
    channelOptions: { "grpc.service_config": serviceConfig }
  }
})

const spread = Effect.gen(function*() {
  for (const [name] of Object.entries(variants(""))) {
    const fleet = yield* Effect.promise(() => startGrpcServers(3))
    yield* Effect.scoped(Effect.gen(function*() {
      const pool = yield* GrpcPool.make(variants(fleet.target)[name]!)
      const echo = GrpcPool.client<EchoApi>(pool, Echo)
      yield* Effect.all(Array.from({ length: 3000 }, () => echo.unary({ text: "x" })), { concurrency: 30, discard: true })
      const counts = fleet.servers.map((s) => s.calls.unary ?? 0)
      const worst = Math.max(...counts.map((c) => Math.abs(c - 1000) / 10))
      console.log(`spread  ${name}: ${counts.join(" / ")} (worst ${worst.toFixed(1)} % off its share)`)
    }))
    yield* Effect.promise(fleet.close)
  }
})

const healing = Effect.gen(function*() {
  for (const [name] of Object.entries(variants(""))) {
    const fleet = yield* Effect.promise(() => startGrpcServers(3))
    yield* Effect.scoped(Effect.gen(function*() {
      const options = variants(fleet.target)[name]!
      const pool = yield* GrpcPool.make({ ...options, connectTimeout: "1 second", outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "1 second" } })
      const echo = GrpcPool.client<EchoApi>(pool, Echo)
      let running = true
      let ok = 0
      let failed = 0
      const loop = Effect.gen(function*() {
        while (running) {
          const exit = yield* Effect.exit(echo.unary({ text: "x", delayMs: 5 }))
          if (Exit.isSuccess(exit)) ok++
          else failed++
        }
      })
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 12 }, () => loop), { concurrency: "unbounded", discard: true }))
      yield* Effect.sleep("1 second")
      const before = { ok, failed }
      yield* Effect.promise(fleet.servers[1]!.stop)
      yield* Effect.sleep("3 seconds")
      running = false
      yield* Fiber.join(fiber)
      console.log(`healing ${name}: ${failed - before.failed} failed, ${ok - before.ok} ok in the 3 s after a kill`)
    }))
    yield* Effect.promise(fleet.close)
  }
})

const single = Effect.gen(function*() {
  const fleet = yield* Effect.promise(() => startGrpcServers(1))
  const target = fleet.servers[0]!.target
  yield* Effect.scoped(Effect.gen(function*() {
    const pools = {
      round_robin: GrpcPool.client<EchoApi>(yield* GrpcPool.make({ target }), Echo),
      pick_first: GrpcPool.client<EchoApi>(yield* GrpcPool.make({ target, loadBalancing: "pick_first" }), Echo)
    }
    const cpu: Record<string, Array<number>> = { round_robin: [], pick_first: [] }
    for (let round = 0; round < 8; round++) {
      for (const name of round % 2 === 0 ? ["round_robin", "pick_first"] as const : ["pick_first", "round_robin"] as const) {
        const n = 2000
        const start = process.cpuUsage()
        for (let i = 0; i < n; i++) yield* pools[name].unary({ text: "x" })
        const used = process.cpuUsage(start)
        cpu[name]!.push((used.user + used.system) / n)
      }
    }
    const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    console.log(`single address: CPU µs/call round_robin ${median(cpu.round_robin!).toFixed(1)}, pick_first ${median(cpu.pick_first!).toFixed(1)}`)
  }))
  yield* Effect.promise(fleet.close)
})

Effect.runPromise(Effect.all([spread, healing, single], { discard: true })).then(() => process.exit(0))
