/**
 * Issue 17: HttpPool as a hostile or careless user would use it. Every option of `Options` with
 * wrong types, out-of-range, overflowing, 0/Infinity/NaN and unknown keys; every per-call argument
 * with invalid values; TLS never silently downgraded. Each case asserts the typed error (or the
 * documented meaning) and that the pool still works afterwards with nothing left borrowed.
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { protoKey, throwingGetter, throwingKeys, throwingReads } from "@effect-pool/testing/hostile"
import {
  caSignedCertificate,
  causeText,
  eventually,
  selfSignedCertificate,
  startHttpServer
} from "@effect-pool/testing"
import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"

const server = (options?: Parameters<typeof startHttpServer>[0]) =>
  Effect.acquireRelease(Effect.promise(() => startHttpServer(options)), (s) => Effect.promise(s.close))

const withPool = <A, E>(options: HttpPool.Options, body: Effect.Effect<A, E, HttpClient.HttpClient | HttpPool.HttpPool>) =>
  Effect.provide(body, Layer.fresh(HttpPool.layer(options)))

const getText = (url: string) => Effect.scoped(Effect.flatMap(HttpClient.get(url), (r) => r.text))
const run = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.scoped(Effect.flatMap(HttpClient.execute(request), (r) => r.text))

const build = (options: unknown) =>
  Effect.flip(Effect.scoped(Layer.build(HttpPool.layer(options as HttpPool.Options))))

/** Nothing borrowed, nobody waiting, and the pool still serves. */
const stillWorks = (origin: string) =>
  Effect.gen(function*() {
    const pool = yield* HttpPool.HttpPool
    yield* eventually("borrowed and waiting back to 0", Effect.map(pool.stats, (s) => s.borrowed === 0 && s.waiting === 0))
    expect(yield* getText(`${origin}/`)).toBe("ok")
    const stats = yield* pool.stats
    expect(stats.borrowed).toBe(0)
    expect(stats.waiting).toBe(0)
  })

const OVER_TIMER = 2 ** 31 + 1000 // ms: a setTimeout with this fires after 1 ms

describe("options: construction rejects what cannot work, naming the option", () => {
  it.effect("options a user's getter or Proxy throws on reading are a PoolConfigError naming them, never a defect", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [object, string]> = [
        [throwingGetter({}, "maxConnectionsPerOrigin"), "maxConnectionsPerOrigin"],
        [throwingGetter({}, "name"), "name"],
        [{ tls: throwingGetter({}, "rejectUnauthorized") }, "tls.rejectUnauthorized"],
        [throwingKeys({}), "options"],
        // a Proxy that throws on reading any key it does not list: options are read from the copy
        [throwingReads({ maxConnectionsPerOrigin: 0 }), "maxConnectionsPerOrigin"],
        [protoKey({}), "__proto__"],
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(HttpPool.layer(options as HttpPool.Options))))
        expect(error._tag, option).toBe("PoolConfigError")
        expect((error as { readonly option: string }).option, option).toBe(option)
      }
    }))

  const rejected: ReadonlyArray<readonly [string, unknown, RegExp?]> = [
    // the options object itself
    ["options", null],
    ["options", 42],
    ["options", "fast"],
    // unknown keys, with a suggestion, and other libraries' names naming ours
    ["maxConection", { maxConection: 4 }, /use "maxConnectionsPerOrigin"/],
    ["maxConnectionPerOrigin", { maxConnectionPerOrigin: 4 }, /did you mean "maxConnectionsPerOrigin"/],
    ["idleTimout", { idleTimout: 4 }, /did you mean "idleTimeout"/],
    ["connections", { connections: 4 }, /maxConnectionsPerOrigin/],
    ["keepAliveTimeout", { keepAliveTimeout: 4000 }, /idleTimeout/],
    ["keepAliveMaxTimeout", { keepAliveMaxTimeout: 4000 }, /idleTimeout/],
    ["keepAliveTimeoutThreshold", { keepAliveTimeoutThreshold: 1000 }, /keepAliveMargin/],
    ["connect", { connect: { rejectUnauthorized: false } }, /tls/],
    ["pipelining", { pipelining: 10 }, /not supported/],
    ["maxRedirections", { maxRedirections: 3 }, /redirects/],
    ["rejectUnauthorized", { rejectUnauthorized: false }, /tls\.rejectUnauthorized/],
    ["ca", { ca: "x" }, /tls\.ca/],
    ["max", { max: 3 }, /maxConnectionsPerOrigin/],
    ["createTimeout", { createTimeout: 1000 }],
    // name
    ["name", { name: 42 }],
    ["name", { name: "" }],
    ["name", { name: "   " }],
    // counts
    ...(["maxConnectionsPerOrigin", "maxConnectionsTotal"] as const).flatMap((option) =>
      [0, -1, 1.5, NaN, -Infinity, "8", true, null, {}].map((value) => [option, { [option]: value }] as const)
    ),
    ...(["maxIdlePerOrigin", "maxIdleTotal"] as const).flatMap((option) =>
      [-1, 1.5, NaN, -Infinity, "8", false, []].map((value) => [option, { [option]: value }] as const)
    ),
    // durations: wrong types, negative, NaN, malformed; 0 where it cannot work
    ...([
      "idleTimeout",
      "keepAliveMargin",
      "connectTimeout",
      "acquireTimeout",
      "maxLifetime",
      "idleOriginTimeout"
    ] as const).flatMap((option) =>
      [-1, NaN, -Infinity, "soon", "-1 seconds", true, {}, [1, 2, 3]].map((value) => [option, { [option]: value }] as const)
    ),
    ["idleTimeout", { idleTimeout: 0 }, /greater than 0/],
    ["idleTimeout", { idleTimeout: "0 seconds" }, /greater than 0/],
    ["acquireTimeout", { acquireTimeout: 0 }, /greater than 0/],
    ["maxLifetime", { maxLifetime: 0 }, /greater than 0/],
    // tls
    ["tls", { tls: 42 }],
    ["tls", { tls: "strict" }],
    ["tls", { tls: null }],
    ["tls", { tls: [] }],
    ["tls.ca", { tls: { ca: 42 } }],
    ["tls.ca", { tls: { ca: true } }],
    ["tls.ca", { tls: { ca: {} } }],
    ["tls.ca", { tls: { ca: "" } }],
    ["tls.ca", { tls: { ca: "not a certificate" } }, /not a PEM certificate/],
    ["tls.ca", { tls: { ca: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" } }, /not a valid certificate/],
    ["tls.ca", { tls: { ca: [] } }],
    ["tls.ca[1]", { tls: { ca: [selfSignedCertificate().cert, 42] } }],
    ["tls.cert", { tls: { cert: 42, key: "k" } }],
    ["tls.key", { tls: { cert: selfSignedCertificate().cert } }, /required/],
    ["tls.cert", { tls: { key: selfSignedCertificate().key } }, /required/],
    ["tls.cert", { tls: { cert: "garbage", key: "garbage" } }],
    ["tls.cert", { tls: { cert: selfSignedCertificate().cert, key: selfSignedCertificate().key } }], // not a pair
    ["tls.servername", { tls: { servername: 42 } }],
    ["tls.servername", { tls: { servername: "" } }],
    ["tls.rejectUnauthorized", { tls: { rejectUnauthorized: "false" } }],
    ["tls.rejectUnauthorized", { tls: { rejectUnauthorized: 0 } }],
    ["tls.rejectUnauthorized", { tls: { rejectUnauthorized: null } }],
    ["tls.passphrase", { tls: { passphrase: "x" } }],
    ["tls.rejectUnauthorised", { tls: { rejectUnauthorised: false } }, /did you mean "tls.rejectUnauthorized"/]
  ]

  it.live.each(rejected.map(([option, options, message], i) => ({ i, option, options, message })))(
    "#$i $option",
    ({ message, option, options }) =>
      Effect.gen(function*() {
        const error = yield* build(options)
        expect(error).toMatchObject({ _tag: "PoolConfigError", option })
        if (message !== undefined) expect(error.message).toMatch(message)
      })
  )

  it.live("a key set to undefined is 'not given'", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: undefined, tls: undefined } as HttpPool.Options, stillWorks(s.origin))
    }).pipe(Effect.scoped))
})

describe("options: 0, Infinity and past-the-timer-limit values work as documented", () => {
  const accepted: ReadonlyArray<readonly [string, HttpPool.Options]> = [
    ["idleTimeout Infinity", { idleTimeout: Infinity }],
    ["idleTimeout past 2^31-1 ms", { idleTimeout: OVER_TIMER }],
    ["idleTimeout 30 days", { idleTimeout: "30 days" }],
    ["keepAliveMargin 0", { keepAliveMargin: 0 }],
    ["keepAliveMargin Infinity", { keepAliveMargin: Infinity }],
    ["keepAliveMargin past 2^31-1 ms", { keepAliveMargin: OVER_TIMER }],
    ["connectTimeout 0 (none)", { connectTimeout: 0 }],
    ["connectTimeout Infinity", { connectTimeout: Infinity }],
    ["connectTimeout past 2^31-1 ms", { connectTimeout: OVER_TIMER }],
    ["acquireTimeout Infinity", { acquireTimeout: Infinity }],
    ["acquireTimeout past 2^31-1 ms", { acquireTimeout: OVER_TIMER }],
    ["maxLifetime Infinity", { maxLifetime: Infinity }],
    ["maxLifetime past 2^31-1 ms", { maxLifetime: OVER_TIMER }],
    ["idleOriginTimeout 0", { idleOriginTimeout: 0 }],
    ["idleOriginTimeout Infinity", { idleOriginTimeout: Infinity }],
    ["idleOriginTimeout past 2^31-1 ms", { idleOriginTimeout: OVER_TIMER }],
    ["maxConnectionsPerOrigin Infinity", { maxConnectionsPerOrigin: Infinity }],
    ["maxConnectionsTotal Infinity", { maxConnectionsTotal: Infinity }],
    ["maxIdlePerOrigin 0", { maxIdlePerOrigin: 0 }],
    ["maxIdlePerOrigin Infinity", { maxIdlePerOrigin: Infinity }],
    ["maxIdleTotal 0", { maxIdleTotal: 0 }],
    ["maxIdleTotal Infinity", { maxIdleTotal: Infinity }]
  ]

  it.live.each(accepted.map(([what, options]) => ({ what, options })))("$what: requests succeed", ({ options }) =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool(options, Effect.gen(function*() {
        for (let i = 0; i < 3; i++) expect(yield* getText(`${s.origin}/`)).toBe("ok")
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))

  it.live("a huge idleTimeout is honoured, never an instant close", () =>
    Effect.gen(function*() {
      // no Keep-Alive hint from the server, so the idle timer is ours alone
      const s = yield* server({ keepAliveTimeout: 0 })
      for (const idleTimeout of [Infinity, OVER_TIMER, "30 days"] as const) {
        yield* withPool({ idleTimeout }, Effect.gen(function*() {
          yield* getText(`${s.origin}/`)
          yield* Effect.sleep("200 millis")
          expect(s.sockets.open).toBe(1) // a 2^31+ ms setTimeout would have closed it after 1 ms
          yield* getText(`${s.origin}/`)
        }))
      }
      expect(s.sockets.opened).toBe(3) // one per pool: every second request reused its connection
    }).pipe(Effect.scoped))

  it.live("keepAliveMargin Infinity: a connection whose server announces a Keep-Alive timeout is not reused", () =>
    Effect.gen(function*() {
      const s = yield* server({ keepAliveTimeout: 5_000 })
      yield* withPool({ keepAliveMargin: Infinity }, Effect.gen(function*() {
        for (let i = 0; i < 3; i++) expect(yield* getText(`${s.origin}/`)).toBe("ok")
      }))
      expect(s.sockets.opened).toBe(3)
    }).pipe(Effect.scoped))
})

describe("per-call arguments: a bad one is a typed error at once, takes no connection, and the pool goes on", () => {
  it.live("URLs with another protocol fail at once (not after acquireTimeout)", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ acquireTimeout: "20 seconds" }, Effect.gen(function*() {
        for (const url of [`ws://127.0.0.1:${s.port}/`, `wss://127.0.0.1:${s.port}/`, `ftp://127.0.0.1:${s.port}/`, "file:///etc/passwd"]) {
          const start = Date.now()
          const error = yield* Effect.flip(getText(url))
          expect(Date.now() - start).toBeLessThan(2_000)
          expect(error._tag).toBe("RequestError")
        }
        const stats = yield* (yield* HttpPool.HttpPool).stats
        expect(stats.size).toBe(0) // no connection was ever made for them
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))

  it.live("methods, paths, header names and values (CRLF injection), bodies: rejected before anything is sent", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({}, Effect.gen(function*() {
        yield* getText(`${s.origin}/`) // one idle connection that must survive every bad request
        const bad: ReadonlyArray<HttpClientRequest.HttpClientRequest> = [
          HttpClientRequest.make("GE T" as any)(`${s.origin}/`),
          HttpClientRequest.make("GET\r\nX: y" as any)(`${s.origin}/`),
          HttpClientRequest.make("CONNECT" as any)(`${s.origin}/`),
          HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("x-injected", "a\r\nx-evil: 1")),
          HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("x-nul", "a\u0000b")),
          HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("bad name", "v")),
          HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("x\r\ny", "v")),
          HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("", "v")),
          HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw(42))),
          HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw(Symbol("x")))),
          HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw({ not: "a body" })))
        ]
        for (const [i, request] of bad.entries()) {
          const exit = yield* Effect.exit(run(request))
          expect([i, Exit.isFailure(exit)]).toEqual([i, true])
          if (Exit.isFailure(exit)) {
            const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
            expect(error?._tag).toBe("RequestError") // a typed failure, not a defect
          }
        }
        expect(s.requests).toEqual({ GET: 1 }) // nothing bad reached the server
        expect(s.sockets.opened).toBe(1) // and no connection was given up for them
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))

  it.live("headers undici refuses on the connection (transfer-encoding, upgrade, content-length, expect) are typed errors; counts return to 0, on a fresh and on a reused connection, which is kept", () =>
    Effect.gen(function*() {
      const s = yield* server()
      const bad = [
        HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("transfer-encoding", "chunked")),
        HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("upgrade", "websocket")),
        HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("content-length", "abc")),
        HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("keep-alive", "timeout=5")),
        HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyText("x"), HttpClientRequest.setHeader("expect", "100-continue"))
      ]
      for (const reused of [false, true]) {
        const opened = s.sockets.opened
        yield* withPool({ maxConnectionsPerOrigin: 1, acquireTimeout: "10 seconds" }, Effect.gen(function*() {
          const pool = yield* HttpPool.HttpPool
          for (const request of bad) {
            // an idle connection waiting: the pool lends it at once (inside the borrow), and
            // undici refuses the request inside dispatch, synchronously
            if (reused) expect(yield* getText(`${s.origin}/`)).toBe("ok")
            const error = yield* Effect.flip(run(request))
            expect(error._tag).toBe("RequestError")
            expect((yield* pool.stats).borrowed).toBe(0)
          }
          yield* stillWorks(s.origin)
          // nothing was written on the connection for a refused request: it was lent again, not
          // closed and replaced (one socket for the whole pool)
          expect(s.sockets.opened - opened).toBe(1)
        }))
      }
    }).pipe(Effect.scoped))

  it.live("a body that only says it is FormData (its tag) is refused, typed, as by layerUndici: never sent as the text [object FormData]", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        const fake = { [Symbol.toStringTag]: "FormData" }
        const error = yield* Effect.flip(run(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw(fake)))))
        expect(error._tag).toBe("RequestError")
        expect(s.requests.POST ?? 0).toBe(0)
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))

  it.live("a body stream that fails mid-way, and a Host header: typed, nothing leaked", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        const failing = Stream.concat(
          Stream.make(new TextEncoder().encode("part")),
          Stream.fail(new Error("the caller's stream broke"))
        )
        const error = yield* Effect.flip(run(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyStream(failing))))
        expect(error._tag).toBe("RequestError")
        expect(causeText(error)).toMatch(/stream broke/)
        // a stream that dies
        const dying = Stream.concat(Stream.make(new Uint8Array([1])), Stream.die("boom"))
        yield* Effect.exit(run(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.bodyStream(dying))))
        // a custom Host header over plain http is the caller's business, and is sent
        expect(yield* run(HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("host", "example.test")))).toBe("ok")
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))

  it.live("a body iterable that throws as undici writes it, on a kept-alive connection: typed, the connection replaced, the process and the pool go on", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        // warm: undici writes the next request on this socket from inside its dispatch loop
        yield* stillWorks(s.origin)
        const bodies = [
          { [Symbol.iterator]() { throw new Error("the caller's iterator broke") } },
          { async *[Symbol.asyncIterator]() { yield new Uint8Array([1]); throw new Error("the caller's iterator broke") } }
        ]
        for (const body of bodies) {
          const error = yield* Effect.flip(run(HttpClientRequest.post(`${s.origin}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw(body)))))
          expect(error._tag).toBe("RequestError")
          // the connection it was written on is destroyed after undici's loop (destroyed inside
          // it, undici's own assertion crashed the process on its next resume)
          yield* stillWorks(s.origin)
        }
      }))
    }).pipe(Effect.scoped))

  it.live("per-call timeouts and interruption: 0, tiny, Infinity; while waiting for a connection and mid-response", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        for (const timeout of [0, 1, "1 millis"] as const) {
          yield* Effect.exit(Effect.timeout(getText(`${s.origin}/bytes?n=100000`), timeout))
        }
        expect(yield* Effect.timeout(getText(`${s.origin}/`), Infinity)).toBe("ok")
        // one request holds the only connection; another waits and is interrupted while waiting
        const hanging = yield* Effect.fork(Effect.scoped(Effect.flatMap(HttpClient.get(`${s.origin}/hang`), (r) => r.text)))
        yield* eventually("hang started", () => (s.requests.GET ?? 0) >= 1 && s.sockets.open >= 1)
        const waiter = yield* Effect.fork(getText(`${s.origin}/`))
        const pool = yield* HttpPool.HttpPool
        yield* eventually("waiting", Effect.map(pool.stats, (st) => st.waiting === 1))
        yield* Fiber.interrupt(waiter)
        yield* Fiber.interrupt(hanging)
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))

  it.live("a callback of ours never throws into undici or the pool: a throwing response consumer", () =>
    Effect.gen(function*() {
      const s = yield* server()
      yield* withPool({ maxConnectionsPerOrigin: 1 }, Effect.gen(function*() {
        const exit = yield* Effect.exit(Effect.scoped(Effect.flatMap(HttpClient.get(`${s.origin}/chunked?n=100`), (r) =>
          Stream.runForEach(r.stream, () => Effect.sync(() => {
            throw new Error("consumer threw")
          })))))
        expect(Exit.isFailure(exit)).toBe(true)
        yield* stillWorks(s.origin)
      }))
    }).pipe(Effect.scoped))
})

describe("TLS is never silently downgraded", () => {
  const cert = caSignedCertificate(["DNS:localhost", "IP:127.0.0.1"])

  it.live("verified with the right CA; refused without it, with another CA, and for a self-signed certificate", () =>
    Effect.gen(function*() {
      const s = yield* server({ tls: cert })
      expect(yield* withPool({ tls: { ca: cert.ca } }, getText(`${s.origin}/`))).toBe("ok")
      expect(yield* withPool({ tls: { ca: [caSignedCertificate(["DNS:x.test"]).ca, cert.ca] } }, getText(`${s.origin}/`)))
        .toBe("ok")
      const noCa = yield* withPool({}, Effect.flip(getText(`${s.origin}/`)))
      expect(causeText(noCa)).toMatch(/UNABLE_TO_VERIFY|unable to verify|issuer/i)
      const otherCa = yield* withPool({ tls: { ca: caSignedCertificate(["DNS:localhost"]).ca } }, Effect.flip(getText(`${s.origin}/`)))
      expect(otherCa._tag).toBe("RequestError")
      const selfSigned = yield* server({ tls: selfSignedCertificate() })
      const refused = yield* withPool({ tls: { ca: cert.ca } }, Effect.flip(getText(`${selfSigned.origin}/`)))
      expect(causeText(refused)).toMatch(/self.signed|certificate/i)
      // explicitly asked: unverified
      expect(yield* withPool({ tls: { rejectUnauthorized: false } }, getText(`${selfSigned.origin}/`))).toBe("ok")
      // undefined is not "false"
      const undef = yield* withPool({ tls: { rejectUnauthorized: undefined } }, Effect.flip(getText(`${selfSigned.origin}/`)))
      expect(undef._tag).toBe("RequestError")
    }).pipe(Effect.scoped))

  it.live("NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment does not turn verification off", () =>
    Effect.gen(function*() {
      const s = yield* server({ tls: selfSignedCertificate() })
      const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
      const error = yield* withPool({}, Effect.flip(getText(`${s.origin}/`))).pipe(
        Effect.ensuring(Effect.sync(() => {
          if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
          else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous
        }))
      )
      expect(causeText(error)).toMatch(/self.signed|certificate/i)
    }).pipe(Effect.scoped))

  it.live("the peer is verified against the URL's host, never a request's Host header; tls.servername only when given", () =>
    Effect.gen(function*() {
      // a certificate (from a trusted CA) for another name only
      const other = caSignedCertificate(["DNS:evil.test"])
      const s = yield* server({ tls: other })
      yield* withPool({ tls: { ca: other.ca } }, Effect.gen(function*() {
        const plain = yield* Effect.flip(getText(`${s.origin}/`))
        expect(causeText(plain)).toMatch(/ALTNAME|does not match|not in the cert/i)
        const viaHost = yield* Effect.flip(run(HttpClientRequest.get(`${s.origin}/`).pipe(HttpClientRequest.setHeader("host", "evil.test"))))
        expect(causeText(viaHost)).toMatch(/ALTNAME|does not match|not in the cert/i)
        expect(s.requests).toEqual({})
        const pool = yield* HttpPool.HttpPool
        yield* eventually("no borrow left", Effect.map(pool.stats, (st) => st.borrowed === 0))
      }))
      // asked for exactly that name
      expect(yield* withPool({ tls: { ca: other.ca, servername: "evil.test" } }, getText(`${s.origin}/`))).toBe("ok")
    }).pipe(Effect.scoped))

  it.live("an https: URL never goes out in plaintext: a plaintext server on that port is an error", () =>
    Effect.gen(function*() {
      const s = yield* server()
      const error = yield* withPool({ tls: { rejectUnauthorized: false } }, Effect.flip(getText(`https://127.0.0.1:${s.port}/`)))
      expect(error._tag).toBe("RequestError")
      expect(s.requests).toEqual({})
    }).pipe(Effect.scoped))
})
