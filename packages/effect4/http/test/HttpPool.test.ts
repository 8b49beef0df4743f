/** The HTTP pool against real servers on 127.0.0.1 that count their sockets. */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { eventually, selfSignedCertificate, startHttpServer } from "@effect-pool/testing-effect4"
import { Effect, Exit, Fiber, Layer, Metric, Stream } from "effect"
import { TestClock } from "effect/testing"
import { HttpClient, HttpClientRequest } from "effect/http"
import { getText, server, why, withPool } from "./helpers.js"

describe("HttpPool (HTTP/1.1)", () => {
  it.live("serial requests reuse one connection", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({}, Effect.gen(function*() {
        for (let i = 0; i < 20; i++) expect(yield* getText(`${s.origin}/`)).toBe("ok")
      }))
      expect(s.sockets.opened).toBe(1)
      expect(s.requests.GET).toBe(20)
    }))

  it.live("200 concurrent requests with maxConnectionsPerOrigin 8 open exactly 8 connections", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 8 }, Effect.gen(function*() {
        const bodies = yield* Effect.all(Array.from({ length: 200 }, () => getText(`${s.origin}/bytes?n=2000`)), {
          concurrency: "unbounded"
        })
        expect(bodies.every((b) => b.length === 2000)).toBe(true)
        const stats = yield* (yield* HttpPool.HttpPool).stats
        expect(stats.perKey.get(s.origin)).toMatchObject({ size: 8, borrowed: 0 })
      }))
      expect(s.sockets.opened).toBe(8)
      expect(s.sockets.peak).toBe(8)
    }))

  it.live("origins are pooled separately, and maxConnectionsTotal holds across them", () =>
    Effect.gen(function*() {
      const a = yield* server()
      const b = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 8, maxConnectionsTotal: 6 }, Effect.gen(function*() {
        let peak = 0
        const track = () => (peak = Math.max(peak, a.sockets.open + b.sockets.open))
        a.server.on("connection", track)
        b.server.on("connection", track)
        yield* Effect.all(Array.from({ length: 200 }, (_, i) => getText(`${i % 2 ? a.origin : b.origin}/bytes?n=1000`)), {
          concurrency: "unbounded"
        })
        expect(peak).toBeLessThanOrEqual(6)
        const stats = yield* (yield* HttpPool.HttpPool).stats
        expect(stats.keys).toBe(2)
        expect(stats.size).toBeLessThanOrEqual(6)
        expect(stats.perKey.get(a.origin)!.borrows + stats.perKey.get(b.origin)!.borrows).toBe(200)
      }))
      expect(a.sockets.opened).toBeGreaterThan(0)
      expect(b.sockets.opened).toBeGreaterThan(0)
    }))

  it.live("idleTimeout closes idle connections (the server sees them close)", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ idleTimeout: "300 millis" }, Effect.gen(function*() {
        yield* getText(`${s.origin}/`)
        expect(s.sockets.open).toBe(1)
        yield* eventually("closed by the client", () => s.sockets.closed === 1, 3_000)
        expect(yield* getText(`${s.origin}/`)).toBe("ok") // a new connection
      }))
      expect(s.sockets.opened).toBe(2)
    }))

  it.live("honours the server's Keep-Alive: timeout hint minus the margin", () =>
    Effect.gen(function*() {
      // node sends "Keep-Alive: timeout=2"; with a 1 s margin the client lets go after ~1 s
      const s = yield* server({ keepAliveTimeout: 2_000 })
      yield* withPool({ idleTimeout: "60 seconds", keepAliveMargin: "1 second" }, Effect.gen(function*() {
        const start = Date.now()
        yield* getText(`${s.origin}/`)
        yield* eventually("closed", () => s.sockets.closed === 1, 3_000)
        const closedAfter = Date.now() - start
        expect(closedAfter).toBeGreaterThanOrEqual(700)
        expect(closedAfter).toBeLessThan(1_900) // before the server's own 2 s
      }))
    }))

  it.live("a server closing kept-alive sockets as they are reused: idempotent requests never fail, POSTs fail typed, never sent twice", () =>
    Effect.gen(function*() {
      const s = yield* server({ dropReusedSockets: true })
      yield* withPool({ maxConnectionsPerOrigin: 4 }, Effect.gen(function*() {
        const gets = yield* Effect.all(Array.from({ length: 500 }, () => Effect.exit(getText(`${s.origin}/`))), {
          concurrency: 8
        })
        expect(gets.filter(Exit.isFailure)).toEqual([])
        expect(s.requests.GET).toBe(500)
        // POST: not retried; the caller gets a typed error naming the cause
        yield* (yield* HttpPool.HttpPool).closeIdle // so that the first POST gets a fresh connection
        yield* HttpClient.execute(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyText("a")))
          .pipe(Effect.flatMap((r) => r.text))
        const error = yield* Effect.flip(
          HttpClient.execute(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyText("b")))
        )
        expect(why(error)).toMatch(/HttpClientError/)
        expect(why(error)).toMatch(/other side closed|UND_ERR_SOCKET|ECONNRESET/)
        expect(s.requests.POST).toBe(1) // the failed one was never processed, and not sent again
        const stats = yield* (yield* HttpPool.HttpPool).stats
        expect(stats.borrowed).toBe(0)
      }))
    }), 30_000)

  it.live("interrupting a request mid-body destroys that connection only; the pool keeps serving", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 4 }, Effect.gen(function*() {
        // a second connection, idle, that must survive
        yield* Effect.all([getText(`${s.origin}/`), getText(`${s.origin}/`)], { concurrency: 2 })
        expect(s.sockets.open).toBe(2)
        let chunks = 0
        const reading = yield* Effect.forkChild(Effect.flatMap(
          HttpClient.get(`${s.origin}/hang`),
          (r) => Stream.runForEach(r.stream, () => Effect.sync(() => chunks++))
        ))
        yield* eventually("hanging response started", () => chunks > 0)
        yield* Fiber.interrupt(reading)
        yield* eventually("that connection closed", () => s.sockets.closed === 1)
        expect(s.sockets.open).toBe(1)
        expect(yield* getText(`${s.origin}/`)).toBe("ok")
        const stats = (yield* (yield* HttpPool.HttpPool).stats).perKey.get(s.origin)!
        expect(stats.borrowed).toBe(0)
      }))
    }))

  it.live("connection refused: a typed error with the cause, no leaked permit", () =>
    Effect.gen(function*() {
      const s = yield* Effect.promise(() => startHttpServer())
      const origin = s.origin
      yield* Effect.promise(s.close)
      yield* withPool({ maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        for (let i = 0; i < 3; i++) {
          const error = yield* Effect.flip(getText(`${origin}/`))
          expect(why(error)).toMatch(/HttpClientError/)
          expect(why(error)).toMatch(/ECONNREFUSED/)
        }
        // concurrent requests to a refusing origin all fail, none hangs
        const all = yield* Effect.all(Array.from({ length: 5 }, () => Effect.exit(getText(`${origin}/`))), { concurrency: 5 })
        expect(all.every(Exit.isFailure)).toBe(true)
        const stats = (yield* (yield* HttpPool.HttpPool).stats).perKey.get(origin)!
        expect(stats.borrowed).toBe(0)
        expect(stats.waiting).toBe(0)
      }))
    }))

  it.live("TLS: verified against the given CA, refused without it; sessions are reused", () =>
    Effect.gen(function*() {
      const certificate = selfSignedCertificate()
      const s = yield* server({ tls: certificate })
      const refused = yield* withPool({}, Effect.flip(getText(`${s.origin}/`)))
      expect(why(refused)).toMatch(/self.signed|CERT|certificate/i)
      yield* withPool({ tls: { ca: certificate.cert }, maxConnectionsPerOrigin: 2 }, Effect.gen(function*() {
        const texts = yield* Effect.all(Array.from({ length: 10 }, () => getText(`${s.origin}/`)), { concurrency: 2 })
        expect(texts.every((t) => t === "ok")).toBe(true)
        expect(s.sockets.opened).toBeLessThanOrEqual(3) // the refused handshake + at most 2
        const pool = yield* HttpPool.HttpPool
        expect((yield* pool.protocols).get(s.origin)).toBe("h1")
        yield* pool.closeIdle
        yield* eventually("closed", () => s.sockets.open === 0)
        expect(yield* getText(`${s.origin}/`)).toBe("ok")
      }))
      expect(s.tls.resumed).toBeGreaterThanOrEqual(1)
    }))

  it.live("streams request and response bodies, large and chunked", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({}, Effect.gen(function*() {
        const big = yield* Effect.flatMap(HttpClient.get(`${s.origin}/bytes?n=5000000`), (r) => r.arrayBuffer)
        expect(big.byteLength).toBe(5_000_000)
        const chunked = yield* getText(`${s.origin}/chunked?n=1000`)
        expect(chunked.split("\n").length).toBe(1001)
        const upload = Stream.fromIterable(Array.from({ length: 100 }, (_, i) => new TextEncoder().encode(`part ${i};`)))
        const echoed = yield* Effect.flatMap(
          HttpClient.execute(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyStream(upload))),
          (r) => r.text
        )
        expect(echoed).toBe(Array.from({ length: 100 }, (_, i) => `part ${i};`).join(""))
        const parts = yield* Effect.flatMap(HttpClient.get(`${s.origin}/chunked?n=50`), (r) => Stream.runCollect(r.stream))
        expect(parts.length).toBeGreaterThan(0)
      }))
      expect(s.sockets.opened).toBe(1)
    }))

  it.live("rejects bad options with PoolConfigError when the layer is built", () =>
    Effect.gen(function*() {
      const build = (options: HttpPool.Options) => Effect.flip(Effect.scoped(Layer.build(HttpPool.layer(options))))
      expect(yield* build({ maxConnectionsPerOrigin: 0 })).toMatchObject({ _tag: "PoolConfigError", option: "maxConnectionsPerOrigin" })
      expect(yield* build({ connectTimeout: -1 })).toMatchObject({ _tag: "PoolConfigError", option: "connectTimeout" })
      expect(yield* build({ keepAliveMargin: "soon" as any })).toMatchObject({ _tag: "PoolConfigError", option: "keepAliveMargin" })
      expect(yield* build({ idleTimeout: "-1 seconds" as any })).toMatchObject({ _tag: "PoolConfigError", option: "idleTimeout" })
      expect(yield* build({ maxConnectionsTotal: 0 })).toMatchObject({ _tag: "PoolConfigError", option: "maxConnectionsTotal" })
      expect(yield* build({ maxIdlePerOrigin: -1 })).toMatchObject({ _tag: "PoolConfigError", option: "maxIdlePerOrigin" })
      expect(yield* build({ maxStreamsPerConnection: 0 })).toMatchObject({ _tag: "PoolConfigError", option: "maxStreamsPerConnection" })
      expect(yield* build({ http2: "yes" as any })).toMatchObject({ _tag: "PoolConfigError", option: "http2" })
      expect(yield* build({ allowH2: false } as any)).toMatchObject({ _tag: "PoolConfigError", option: "allowH2" })
    }))

  it.effect("acquireTimeout (on the TestClock): a request that gets no connection fails naming PoolTimeoutError; nothing leaks", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 1, acquireTimeout: "2 seconds" }, Effect.gen(function*() {
        let chunks = 0
        const hanging = yield* Effect.forkChild(Effect.flatMap(
          HttpClient.get(`${s.origin}/hang`),
          (r) => Stream.runForEach(r.stream, () => Effect.sync(() => chunks++))
        ))
        yield* eventually("the only connection is held", () => chunks > 0)
        const waiter = yield* Effect.forkChild(Effect.flip(getText(`${s.origin}/`)))
        const pool = yield* HttpPool.HttpPool
        yield* eventually("waiting", Effect.map(pool.stats, (st) => st.waiting === 1))
        yield* TestClock.adjust("1 second")
        expect((yield* pool.stats).waiting).toBe(1) // not before its time
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(waiter)
        expect(why(error)).toMatch(/HttpClientError/)
        expect(why(error)).toMatch(/PoolTimeoutError/)
        yield* Fiber.interrupt(hanging)
        yield* eventually("nothing borrowed", Effect.map(pool.stats, (st) => st.borrowed === 0 && st.waiting === 0))
      }))
    }))

  it.live("metrics: the core's gauges, counters and histograms, labelled with the pool's name and the origin", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ name: "metered-http", maxConnectionsPerOrigin: 2 }, Effect.gen(function*() {
        yield* Effect.all(Array.from({ length: 10 }, () => getText(`${s.origin}/`)), { concurrency: 2 })
        yield* (yield* HttpPool.HttpPool).stats // refreshes gauges and counters now
        const pairs = yield* Metric.snapshot
        const find = (id: string) =>
          pairs.filter((p) => p.id === id && p.attributes?.pool === "metered-http" && p.attributes?.key === s.origin)
            .map((p) => p.state as unknown as { readonly value?: number; readonly count?: number })[0]
        expect(find("effect_pool_borrows_total")?.count).toBe(10)
        expect(find("effect_pool_created_total")?.count).toBe(2)
        expect(find("effect_pool_size")?.value).toBe(2)
        expect(find("effect_pool_wait_ms")).toBeDefined()
      }))
    }))

  it.live("closeIdle closes every idle connection", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({}, Effect.gen(function*() {
        yield* Effect.all([getText(`${s.origin}/`), getText(`${s.origin}/`)], { concurrency: 2 })
        expect(s.sockets.open).toBe(2)
        yield* (yield* HttpPool.HttpPool).closeIdle
        yield* eventually("closed", () => s.sockets.open === 0)
      }))
    }))
})
