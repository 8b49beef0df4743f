/** HTTP/2: one connection per origin with many streams, against a real h2 server (TLS + ALPN). */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { eventually, selfSignedCertificate } from "@effect-pool/testing-effect4"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as net from "node:net"
import { getText, server, server2, why, withPool } from "./helpers.js"

/** A TCP server that accepts and never answers (no TLS handshake, no HTTP): connects hang. */
const blackHole = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ origin: string; sockets: Set<net.Socket>; server: net.Server }>((resolve) => {
      const sockets = new Set<net.Socket>()
      const srv = net.createServer((socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
      })
      srv.listen(0, "127.0.0.1", () => resolve({ origin: `https://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, sockets, server: srv }))
    })
  ),
  (b) => Effect.promise(() => new Promise<void>((resolve) => {
    for (const socket of b.sockets) socket.destroy()
    b.server.close(() => resolve())
  }))
)

const certificate = selfSignedCertificate()
const tls = { ca: certificate.cert }

describe("HttpPool (HTTP/2)", () => {
  it.live("a cold burst of 100 requests (undici's stream ceiling) to an h2 origin shares one connection", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls, maxConnectionsPerOrigin: 8 }, Effect.gen(function*() {
        const bodies = yield* Effect.all(Array.from({ length: 100 }, () => getText(`${s.origin}/bytes?n=3000`)), {
          concurrency: "unbounded"
        })
        expect(bodies.every((b) => b.length === 3000)).toBe(true)
        const pool = yield* HttpPool.HttpPool
        expect((yield* pool.protocols).get(s.origin)).toBe("h2")
        expect((yield* pool.stats).perKey.get(s.origin)).toMatchObject({ size: 1, borrowed: 0 })
      }))
      expect(s.byProtocol).toEqual({ h2: 100 })
      expect(s.connections.opened).toBe(1)
      expect(s.streams.peak).toBeGreaterThan(1) // multiplexed, not one at a time
    }))

  it.live("the server's SETTINGS_MAX_CONCURRENT_STREAMS bounds the streams; more open a second connection only past it", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate, maxConcurrentStreams: 5 })
      yield* withPool({ tls, maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        // warm: the connection has the server's settings
        yield* getText(`${s.origin}/`)
        const bodies = yield* Effect.all(Array.from({ length: 60 }, () => getText(`${s.origin}/bytes?n=20000`)), {
          concurrency: "unbounded"
        })
        expect(bodies.every((b) => b.length === 20000)).toBe(true)
      }))
      expect(s.streams.peak).toBeLessThanOrEqual(5)
      expect(s.streams.peak).toBeGreaterThan(1)
      expect(s.connections.opened).toBe(1)
    }))

  it.live("with maxConnectionsPerOrigin 2 and 3 streams per connection, 30 concurrent requests use 2 connections", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate, maxConcurrentStreams: 3 })
      yield* withPool({ tls, maxConnectionsPerOrigin: 2 }, Effect.gen(function*() {
        yield* getText(`${s.origin}/`)
        yield* Effect.all(Array.from({ length: 30 }, () => getText(`${s.origin}/bytes?n=50000`)), { concurrency: "unbounded" })
      }))
      expect(s.connections.opened).toBeLessThanOrEqual(2)
      expect(s.streams.peak).toBeLessThanOrEqual(6)
    }))

  it.live("maxStreamsPerConnection lowers the streams per connection: past it, another connection", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls, maxStreamsPerConnection: 4, maxConnectionsPerOrigin: 3 }, Effect.gen(function*() {
        yield* Effect.all(Array.from({ length: 40 }, () => getText(`${s.origin}/bytes?n=50000`)), { concurrency: "unbounded" })
        expect((yield* (yield* HttpPool.HttpPool).stats).perKey.get(s.origin)!.size).toBeLessThanOrEqual(3)
      }))
      expect(s.streams.peak).toBeLessThanOrEqual(12)
      expect(s.connections.opened).toBeLessThanOrEqual(3)
    }))

  it.live("http2: false speaks HTTP/1.1 to the same server", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls, http2: false, maxConnectionsPerOrigin: 3 }, Effect.gen(function*() {
        yield* Effect.all(Array.from({ length: 20 }, () => getText(`${s.origin}/`)), { concurrency: "unbounded" })
        expect((yield* (yield* HttpPool.HttpPool).protocols).get(s.origin)).toBe("h1")
      }))
      expect(s.byProtocol).toEqual({ "http/1.1": 20 })
      expect(s.connections.opened).toBe(3)
    }))

  it.live("request and response bodies stream over h2 (echo of a streamed upload, 5 MB download)", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls }, Effect.gen(function*() {
        const upload = Stream.fromIterable(Array.from({ length: 100 }, (_, i) => new TextEncoder().encode(`part ${i};`)))
        const echoed = yield* Effect.flatMap(
          HttpClient.execute(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyStream(upload))),
          (r) => r.text
        )
        expect(echoed).toBe(Array.from({ length: 100 }, (_, i) => `part ${i};`).join(""))
        const big = yield* Effect.flatMap(HttpClient.get(`${s.origin}/bytes?n=5000000`), (r) => r.arrayBuffer)
        expect(big.byteLength).toBe(5_000_000)
      }))
      expect(s.connections.opened).toBe(1)
    }))

  it.live("interrupting one stream leaves the connection and its other streams serving", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls }, Effect.gen(function*() {
        yield* getText(`${s.origin}/`)
        let chunks = 0
        const reading = yield* Effect.forkChild(Effect.flatMap(
          HttpClient.get(`${s.origin}/hang`),
          (r) => Stream.runForEach(r.stream, () => Effect.sync(() => chunks++))
        ))
        yield* eventually("hanging response started", () => chunks > 0)
        const others = yield* Effect.all(Array.from({ length: 10 }, () => getText(`${s.origin}/`)), { concurrency: 10 })
        expect(others.every((t) => t === "ok")).toBe(true)
        yield* Fiber.interrupt(reading)
        yield* eventually("the hanging stream closed", () => s.streams.open === 0)
        expect(yield* getText(`${s.origin}/`)).toBe("ok")
        const stats = (yield* (yield* HttpPool.HttpPool).stats).perKey.get(s.origin)!
        expect(stats).toMatchObject({ borrowed: 0, size: 1 })
      }))
      expect(s.connections.opened).toBe(1)
    }))

  it.live("a request body stream that fails while it is sent: its connection takes no new stream and closes, the server's stream slot is freed, later requests are served", () =>
    Effect.gen(function*() {
      // found by an independent probe: undici left each such stream open at the server, so with
      // 2 streams allowed two failed uploads wedged the connection and every later request waited
      // an upload answered once it has all arrived (the stream stays open while the body does)
      const handler = (req: any, res: any) => {
        if (req.url !== "/upload") return void res.end("ok")
        req.on("data", () => {})
        req.on("error", () => {})
        req.on("end", () => res.end("got it"))
      }
      const s = yield* server2({ tls: certificate, maxConcurrentStreams: 2, handler })
      yield* withPool({ tls, maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        yield* getText(`${s.origin}/`)
        for (let i = 0; i < 2; i++) {
          const failing = Stream.concat(Stream.make(new Uint8Array(1000)), Stream.fail(new Error("the caller's stream broke")))
          const error = yield* Effect.flip(Effect.flatMap(
            HttpClient.execute(HttpClientRequest.post(`${s.origin}/upload`).pipe(HttpClientRequest.bodyStream(failing))),
            (r) => r.text
          ))
          expect(why(error)).toMatch(/stream broke/)
        }
        const texts = yield* Effect.all(Array.from({ length: 3 }, () => getText(`${s.origin}/`)), { concurrency: "unbounded" }).pipe(
          Effect.timeoutOrElse({ duration: "30 seconds", orElse: () => Effect.die(new Error("later requests never served")) })
        )
        expect(texts).toHaveLength(3)
      }))
      yield* eventually("the server's streams all closed", Effect.sync(() => s.streams.open === 0), 10_000)
    }))

  it.live("a GOAWAY from the server: idempotent requests go on over a new connection", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls }, Effect.gen(function*() {
        yield* getText(`${s.origin}/`)
        s.goAway()
        yield* eventually("the session closed", () => s.connections.open === 0)
        const after = yield* Effect.all(Array.from({ length: 10 }, () => Effect.exit(getText(`${s.origin}/`))), { concurrency: 10 })
        expect(after.filter(Exit.isFailure)).toEqual([])
        const stats = (yield* (yield* HttpPool.HttpPool).stats).perKey.get(s.origin)!
        expect(stats.borrowed).toBe(0)
      }))
    }))

  it.live("a GOAWAY with a stream still open: new requests go on a new connection at once, not behind that stream; the open stream ends normally", () =>
    Effect.gen(function*() {
      const held: Array<() => void> = []
      const s = yield* server2({
        tls: certificate,
        handler: (req: any, res: any) => {
          if (req.url === "/hold") held.push(() => res.end("held"))
          else res.end("ok")
        }
      })
      yield* withPool({ tls, maxConnectionsPerOrigin: 4 }, Effect.gen(function*() {
        const hold = yield* Effect.forkChild(getText(`${s.origin}/hold`))
        const client = yield* HttpClient.HttpClient
        yield* eventually("the held stream is open", () => held.length === 1)
        s.goAway() // the server's session closes gracefully: GOAWAY, the held stream goes on
        // once the client has heard the GOAWAY, a request completes without waiting for /hold
        // (each attempt before that may wait behind it on the old session: cut short and retried)
        yield* eventually("a request after the GOAWAY answered while /hold is still open", Effect.map(
          Effect.exit(Effect.timeout(Effect.provideService(getText(`${s.origin}/`), HttpClient.HttpClient, client), "1 second")),
          (exit) => Exit.isSuccess(exit) && exit.value === "ok"
        ), 20_000)
        expect(held.length).toBe(1)
        expect(s.connections.opened).toBe(2)
        held[0]!()
        expect(yield* Fiber.join(hold)).toBe("held")
        const pool = yield* HttpPool.HttpPool
        yield* eventually("nothing borrowed", Effect.map(pool.stats, (st) => st.borrowed === 0))
      }))
    }))

  it.live("a connect that never completes: connectTimeout fails the request and those waiting for that connect, naming the timeout", () =>
    Effect.gen(function*() {
      const b = yield* blackHole
      yield* withPool({ tls, connectTimeout: "300 millis" }, Effect.gen(function*() {
        const exits = yield* Effect.all(Array.from({ length: 5 }, () => Effect.exit(getText(`${b.origin}/`))), { concurrency: 5 })
        expect(exits.every(Exit.isFailure)).toBe(true)
        for (const exit of exits) if (Exit.isFailure(exit)) expect(why(Cause.squash(exit.cause))).toMatch(/timeout/i)
        const stats = yield* (yield* HttpPool.HttpPool).stats
        expect(stats).toMatchObject({ borrowed: 0, waiting: 0 })
      }))
    }))

  it.live("requests interrupted while they wait for an origin's first connect leave nothing behind", () =>
    Effect.gen(function*() {
      const b = yield* blackHole
      yield* withPool({ tls, connectTimeout: 0 }, Effect.gen(function*() {
        const exits = yield* Effect.all(
          Array.from({ length: 5 }, () => Effect.exit(getText(`${b.origin}/`).pipe(Effect.timeout("200 millis")))),
          { concurrency: 5 }
        )
        expect(exits.every(Exit.isFailure)).toBe(true)
        const pool = yield* HttpPool.HttpPool
        yield* eventually("nothing borrowed or waiting", Effect.map(pool.stats, (st) => st.borrowed === 0 && st.waiting === 0))
      }))
    }))

  it.live("maxConnectionsTotal holds across an h1 and an h2 origin", () =>
    Effect.gen(function*() {
      const a = yield* server()
      const h = yield* server2({ tls: certificate, maxConcurrentStreams: 2 })
      yield* withPool({ tls, maxConnectionsPerOrigin: 4, maxConnectionsTotal: 3 }, Effect.gen(function*() {
        let peak = 0
        const track = () => (peak = Math.max(peak, a.sockets.open + h.connections.open))
        a.server.on("connection", track)
        h.server.on("secureConnection", track)
        yield* getText(`${h.origin}/`) // the h2 origin's settings are known
        yield* Effect.all(
          Array.from({ length: 120 }, (_, i) => getText(i % 2 ? `${a.origin}/bytes?n=20000` : `${h.origin}/bytes?n=20000`)),
          { concurrency: "unbounded" }
        )
        expect(peak).toBeLessThanOrEqual(3)
        const stats = yield* (yield* HttpPool.HttpPool).stats
        expect(stats.size).toBeLessThanOrEqual(3)
        expect(stats.borrowed).toBe(0)
      }))
      expect(h.streams.peak).toBeLessThanOrEqual(2 * 3)
    }))

  it.live("idleTimeout closes an idle h2 connection", () =>
    Effect.gen(function*() {
      const s = yield* server2({ tls: certificate })
      yield* withPool({ tls, idleTimeout: "300 millis" }, Effect.gen(function*() {
        yield* Effect.all(Array.from({ length: 10 }, () => getText(`${s.origin}/`)), { concurrency: 10 })
        yield* eventually("closed by the client", () => s.connections.closed === 1, 3_000)
        expect(yield* getText(`${s.origin}/`)).toBe("ok")
      }))
      expect(s.connections.opened).toBe(2)
    }))
})
