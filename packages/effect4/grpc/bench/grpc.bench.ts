/**
 * @effect-pool/grpc against one grpc-js client on one channel and grpc-gcp's channel pool, with
 * the server in its own process allowing 100 concurrent streams per connection:
 * - 500 concurrent unary calls whose handler waits 100 ms (one channel is bound by its stream
 *   limit, not by CPU): calls per second;
 * - 1 call at a time, handler answers at once: µs per call against a bare generated client;
 * - bare generated clients over the same pool's channels (no Effect): what the channels give;
 * - the ceiling: the same Effect call shape over grpc-gcp's own pool, so that what the pool costs
 *   is visible apart from what Effect costs.
 * Every contender once per round, order rotated, BENCH_ROUNDS rounds (default 7); rates are
 * medians, ratios the median of same-round ratios. `npm run bench -w @effect-pool/grpc`.
 */
import { GrpcPool } from "@effect-pool/grpc"
import { benchSettings, collectGarbage, echoPackage, effectLoop, median, pairedRatio, promiseLoop, rotated, writeResults } from "@effect-pool/testing-effect4"
import * as grpc from "@grpc/grpc-js"
import { Effect, Exit, Scope } from "effect"
import { fork } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const CHANNELS = 5
const STREAMS = 100
// the Echo client class made with this root's grpc-js (the test kit's `echoPackage` uses its own
// copy, whose clients refuse credentials of another copy)
const Echo = grpc.makeClientConstructor(echoPackage().Echo.service, "Echo")
const require = createRequire(import.meta.url)
const grpcGcp = require("grpc-gcp")(grpc)

interface Job {
  readonly name: string
  readonly ops: number
  readonly concurrency: number
  readonly delayMs: number
}
const scale = benchSettings.scale
const jobs: ReadonlyArray<Job> = [
  { name: "500 concurrent calls, handler waits 100 ms", ops: Math.round(5_000 * scale), concurrency: 500, delayMs: 100 },
  { name: "1 call at a time, instant handler", ops: Math.round(3_000 * scale), concurrency: 1, delayMs: 0 }
]

interface Contender {
  readonly name: string
  readonly run: (job: Job) => Promise<void>
  readonly close: () => Promise<void>
}

const unaryPromise = (client: any, request: object) =>
  new Promise<void>((resolve, reject) => client.unary(request, (error: unknown) => (error ? reject(error) : resolve())))

const generatedClient = (name: string, client: any): Contender => ({
  name,
  run: (job) => promiseLoop(job.ops, job.concurrency, () => unaryPromise(client, { text: "x", delayMs: job.delayMs })),
  close: async () => client.close()
})

const grpcGcpClient = (target: string) => {
  const apiConfig = grpcGcp.createGcpApiConfig({ channelPool: { maxSize: CHANNELS, maxConcurrentStreamsLowWatermark: STREAMS } })
  return new Echo(target, grpc.credentials.createInsecure(), {
    channelFactoryOverride: grpcGcp.gcpChannelFactoryOverride,
    callInvocationTransformer: grpcGcp.gcpCallInvocationTransformer,
    gcpApiConfig: apiConfig
  } as any) as any
}

/** The same Effect call shape (Effect.callback, cancel on interrupt) over grpc-gcp's own pool: what Effect costs. */
const effectOverGrpcGcp = (target: string): Contender => {
  const client = grpcGcpClient(target)
  const unary = (request: object) =>
    Effect.callback<unknown, unknown>((resume) => {
      const call = client.unary(request, (error: unknown, response: unknown) => resume(error ? Effect.fail(error) : Effect.succeed(response)))
      return Effect.sync(() => call.cancel())
    })
  return {
    name: "ceiling: Effect.callback over grpc-gcp's pool",
    run: (job) => Effect.runPromise(effectLoop(job.ops, job.concurrency, () => unary({ text: "x", delayMs: job.delayMs }))),
    close: async () => client.close()
  }
}

const grpcGcpPool = (target: string): Contender => {
  const apiConfig = grpcGcp.createGcpApiConfig({ channelPool: { maxSize: CHANNELS, maxConcurrentStreamsLowWatermark: STREAMS } })
  const client = new Echo(target, grpc.credentials.createInsecure(), {
    channelFactoryOverride: grpcGcp.gcpChannelFactoryOverride,
    callInvocationTransformer: grpcGcp.gcpCallInvocationTransformer,
    gcpApiConfig: apiConfig
  } as any)
  return generatedClient(`grpc-gcp ChannelPool (${CHANNELS} channels)`, client)
}

const ours = async (target: string): Promise<Array<Contender>> => {
  const scope = Effect.runSync(Scope.make())
  const pool = await Effect.runPromise(Scope.provide(GrpcPool.make({ target, minChannels: CHANNELS, maxChannels: CHANNELS, maxConcurrentStreamsPerChannel: STREAMS }), scope))
  const echo = GrpcPool.client<{ unary: GrpcPool.Unary<object, unknown> }>(pool, Echo)
  // every channel connected before the ceiling borrows them (else they would all be the first one)
  while ((await Effect.runPromise(GrpcPool.stats(pool))).pool.size < CHANNELS) await new Promise((r) => setTimeout(r, 20))
  // the ceiling: bare generated clients over the pool's own channels, least-loaded by hand. The
  // channels are borrowed for that contender's runs only: a channel held across the other runs
  // would take one stream slot from each channel and keep 5 of our 500 calls waiting throughout.
  const bareClients = async <X>(body: (leastLoaded: () => { client: any; active: number }) => Promise<X>): Promise<X> => {
    const runScope = Effect.runSync(Scope.make())
    try {
      const channels = await Effect.runPromise(Scope.provide(Effect.all(Array.from({ length: CHANNELS }, () => GrpcPool.channel(pool))), runScope))
      const clients = channels.map((channel) => ({ client: new Echo(target, grpc.credentials.createInsecure(), { channelOverride: channel }) as any, active: 0 }))
      return await body(() => clients.reduce((best, c) => (c.active < best.active ? c : best)))
    } finally {
      await Effect.runPromise(Scope.close(runScope, Exit.void))
    }
  }
  return [
    {
      name: `ours: GrpcPool.client (${CHANNELS} channels)`,
      run: (job) => Effect.runPromise(effectLoop(job.ops, job.concurrency, () => echo.unary({ text: "x", delayMs: job.delayMs }))),
      close: async () => {}
    },
    {
      name: "bare generated clients on our channels",
      run: (job) =>
        bareClients((leastLoaded) =>
          promiseLoop(job.ops, job.concurrency, async () => {
            const c = leastLoaded()
            c.active++
            try {
              await unaryPromise(c.client, { text: "x", delayMs: job.delayMs })
            } finally {
              c.active--
            }
          })
        ),
      close: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  ]
}

const main = async () => {
  const server = fork(fileURLToPath(new URL("./server.mjs", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const port = await new Promise<number>((resolve) => server.once("message", (m: { port: number }) => resolve(m.port)))
  const target = `127.0.0.1:${port}`
  const single = generatedClient("grpc-js: one client, one channel", new Echo(target, grpc.credentials.createInsecure()))
  const contenders = [single, grpcGcpPool(target), ...(await ours(target)), effectOverGrpcGcp(target)]
  for (const c of contenders) await c.run({ ...jobs[1], ops: 300 }) // warm up: connect, JIT
  const [gcp, mine, bare, ceiling] = [contenders[1], contenders[2], contenders[3], contenders[4]]
  // c = 1 latency, paired tightly: ours and the bare generated client back to back, the order
  // alternating each pair, ≥ 7 pairs; the ratio is the median of the pairs' ratios (ours' time per
  // call / the bare client's), with the lowest and highest pair beside it
  const pairs = Math.max(7, Number(process.env.BENCH_PAIRS ?? 9))
  const pairOps = Math.round(2_000 * scale)
  const micros = { ours: [] as Array<number>, bare: [] as Array<number> }
  for (let pair = 0; pair < pairs; pair++) {
    for (const c of pair % 2 === 0 ? [single, mine] : [mine, single]) {
      collectGarbage()
      const started = performance.now()
      await c.run({ ...jobs[1], ops: pairOps })
      ;(c === single ? micros.bare : micros.ours).push(((performance.now() - started) * 1000) / pairOps)
    }
  }
  const latency = pairedRatio(micros.ours, micros.bare)
  console.log(`
c = 1 latency, ${pairs} alternating pairs of ${pairOps} calls (instant handler)`)
  console.log(`  bare generated client (one channel)  ${median(micros.bare).toFixed(0)} µs/call  [${micros.bare.map((x) => x.toFixed(0)).join(" ")}]`)
  console.log(`  ours: GrpcPool.client                ${median(micros.ours).toFixed(0)} µs/call  [${micros.ours.map((x) => x.toFixed(0)).join(" ")}]`)
  console.log(`  ours / bare (≤ 1.1×)                 ${latency.median.toFixed(3)}×  [${latency.low.toFixed(3)} – ${latency.high.toFixed(3)}]`)
  if (process.env.BENCH_ONLY === "latency") {
    for (const c of [...contenders].reverse()) await c.close()
    server.disconnect()
    return
  }
  // every contender once per round, order rotated; rates kept per round for paired ratios
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7)
  const samples = new Map<string, Array<number>>()
  for (let round = 0; round < rounds; round++) {
    for (const job of jobs) {
      for (const c of rotated(contenders, round)) {
        collectGarbage()
        const started = performance.now()
        await c.run(job)
        const rate = job.ops / ((performance.now() - started) / 1000)
        const key = `${job.name}|${c.name}`
        samples.set(key, [...(samples.get(key) ?? []), rate])
      }
    }
  }
  for (const c of [...contenders].reverse()) await c.close()
  server.disconnect()

  const rates = (job: Job, c: Contender) => samples.get(`${job.name}|${c.name}`)!
  const results: Array<Record<string, unknown>> = []
  for (const job of jobs) {
    console.log(`\n${job.name} (median of ${rounds} rounds; ratio = median of same-round ratios)`)
    for (const c of contenders) {
      const rate = median(rates(job, c))
      const vs = pairedRatio(rates(job, c), rates(job, single))
      const latency = job.concurrency === 1 ? `  ${(1e6 / rate).toFixed(0)} µs/call` : ""
      console.log(`  ${c.name.padEnd(52)} ${Math.round(rate).toString().padStart(7)} calls/s  ${vs.median.toFixed(2)}× one channel${latency}`)
      results.push({ job: job.name, contender: c.name, callsPerSecond: Math.round(rate), samples: rates(job, c).map(Math.round), vsOneChannel: Number(vs.median.toFixed(3)) })
    }
  }
  const ratio = (job: number, a: Contender, b: Contender) => pairedRatio(rates(jobs[job], a), rates(jobs[job], b))
  const targets = {
    "500 concurrent: ≥ 2× one channel": ratio(0, mine, single),
    "500 concurrent: ≥ 1× grpc-gcp": ratio(0, mine, gcp),
    // latency ratio: ours' time per call / the bare client's = the bare client's rate / ours
    "1 at a time: latency ≤ 1.1× bare client (rounds)": ratio(1, single, mine),
    "ours / bare clients on our channels (500 concurrent)": ratio(0, mine, bare),
    "ours / Effect over grpc-gcp (500 concurrent)": ratio(0, mine, ceiling),
    "ours / Effect over grpc-gcp (1 at a time)": ratio(1, mine, ceiling)
  }
  console.log("\ntargets (median of same-round ratios, [lowest – highest round])")
  for (const [target, r] of Object.entries(targets)) console.log(`  ${target.padEnd(52)} ${r.median.toFixed(2)}  [${r.low.toFixed(2)} – ${r.high.toFixed(2)}]`)
  console.log(`  ${"1 at a time: latency ≤ 1.1× bare client (pairs)".padEnd(52)} ${latency.median.toFixed(2)}  [${latency.low.toFixed(2)} – ${latency.high.toFixed(2)}]`)
  writeResults(fileURLToPath(new URL("./results/grpc.json", import.meta.url)), {
    channels: CHANNELS,
    streamsPerChannel: STREAMS,
    rounds,
    results,
    targets,
    latencyPairs: { pairs, callsPerPair: pairOps, microsOurs: micros.ours, microsBare: micros.bare, ratio: latency }
  })
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
