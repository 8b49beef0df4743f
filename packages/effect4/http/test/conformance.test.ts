/**
 * Conformance: request/response features of Effect 4's HttpClient, run by the same code against
 * @effect/platform-node 4's `NodeHttpClient.layerUndici` and `HttpPool.layer`, asserting the same
 * outcome — over HTTP/1.1 (plain `http:`) and over HTTP/2 (`https:` with ALPN h2, where both use
 * undici 8's h2). Differences are fixed, or listed in the README ("Differences from …").
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { selfSignedCertificate, startHttp2Server, startHttpServer } from "@effect-pool/testing-effect4"
import { NodeHttpClient } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer, Ref, Schema, Stream } from "effect"
import { type Cookies, HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { gzipSync } from "node:zlib"

const readBody = async (req: AsyncIterable<Buffer>) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The routes every case uses (node:http and node:http2's compatibility API alike). */
const routes = async (req: any, res: any) => {
  const url = new URL(req.url ?? "/", "http://x")
  const body = await readBody(req)
  switch (url.pathname) {
    case "/echo": {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => k.startsWith("x-") || k === "content-type" || k === "cookie")
      )
      res.setHeader("content-type", "application/json")
      res.setHeader("x-multi", ["a", "b"])
      return res.end(JSON.stringify({ method: req.method, path: url.pathname, query: url.search, headers, body: body.toString("utf8") }))
    }
    case "/redirect":
      res.statusCode = 302
      res.setHeader("location", "/echo?from=redirect")
      return res.end()
    case "/cookie":
      res.setHeader("set-cookie", ["session=abc; Path=/", "theme=dark; Path=/"])
      return res.end("set")
    case "/status":
      res.statusCode = Number(url.searchParams.get("code"))
      return res.end(res.statusCode === 204 ? undefined : `status ${res.statusCode}`)
    case "/gzip":
      res.setHeader("content-encoding", "gzip")
      res.setHeader("content-type", "text/plain")
      return res.end(gzipSync("compressed text"))
    case "/stream": {
      const n = Number(url.searchParams.get("n"))
      for (let i = 0; i < n; i++) {
        res.write(`chunk ${i}\n`)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      return res.end()
    }
    case "/big":
      return res.end(Buffer.alloc(Number(url.searchParams.get("n")), 7))
    case "/slow":
      return setTimeout(() => res.end("late"), 30_000).unref()
    case "/json":
      res.setHeader("content-type", "application/json")
      return res.end(JSON.stringify({ id: 1, name: "Ada", tags: ["x"] }))
    default:
      res.statusCode = 404
      return res.end("no route")
  }
}
const handler = (req: any, res: any) => void routes(req, res).catch(() => res.destroy())

const certificate = selfSignedCertificate()

interface Edition {
  readonly server: Effect.Effect<{ readonly origin: string }, never, import("effect/Scope").Scope>
  readonly layers: Record<string, Layer.Layer<HttpClient.HttpClient, unknown>>
}

const editions: Record<string, Edition> = {
  "HTTP/1.1": {
    server: Effect.acquireRelease(Effect.promise(() => startHttpServer({ handler })), (s) => Effect.promise(s.close)),
    layers: {
      "NodeHttpClient.layerUndici": NodeHttpClient.layerUndici,
      "HttpPool.layer": HttpPool.layer({ maxConnectionsPerOrigin: 4 }) as Layer.Layer<HttpClient.HttpClient, unknown>
    }
  },
  "HTTP/2": {
    server: Effect.acquireRelease(
      Effect.promise(() => startHttp2Server({ tls: certificate, handler, allowHTTP1: false })),
      (s) => Effect.promise(s.close)
    ),
    layers: {
      "NodeHttpClient.layerUndici": NodeHttpClient.layerUndiciOptions({ connect: { ca: certificate.cert } }),
      "HttpPool.layer": HttpPool.layer({ tls: { ca: certificate.cert } }) as Layer.Layer<HttpClient.HttpClient, unknown>
    }
  }
}

/** The error a failure is about: its tag and, for an HttpClientError, its reason's tag. */
const failureOf = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause) as { _tag?: string; reason?: { _tag?: string } }
  return { tag: error?._tag, reason: error?.reason?._tag }
}

/** An outcome as comparable data. */
const outcome = (exit: Exit.Exit<unknown, unknown>): unknown =>
  JSON.parse(JSON.stringify(Exit.isSuccess(exit) ? { ok: exit.value } : { failed: failureOf(exit.cause) }))

const json = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.execute(request), (r) => Effect.map(r.json, (body) => ({ status: r.status, body })))

for (const [protocol, edition] of Object.entries(editions)) {
  /** Runs `program` on both layers, expects the same outcome, returns it. */
  const same = (program: (origin: string) => Effect.Effect<unknown, unknown, HttpClient.HttpClient>) =>
    Effect.gen(function*() {
      const s = yield* edition.server
      const results: Record<string, unknown> = {}
      for (const [name, layer] of Object.entries(edition.layers)) {
        results[name] = outcome(yield* Effect.exit(Effect.provide(program(s.origin), Layer.fresh(layer))))
      }
      expect(results["HttpPool.layer"]).toEqual(results["NodeHttpClient.layerUndici"])
      return results["HttpPool.layer"] as { ok?: any; failed?: any }
    })

  describe(`conformance (${protocol}): HttpClient on NodeHttpClient.layerUndici and HttpPool.layer`, () => {
    it.live("methods", () =>
      Effect.gen(function*() {
        const result = yield* same((origin) =>
          Effect.forEach(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const, (method) =>
            json(HttpClientRequest.make(method)(`${origin}/echo`)))
        )
        expect(result.ok.map((r: any) => r.body.method)).toEqual(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        const head = yield* same((origin) =>
          Effect.map(HttpClient.execute(HttpClientRequest.head(`${origin}/echo`)), (r) => ({
            status: r.status,
            type: r.headers["content-type"]
          })))
        expect(head.ok).toEqual({ status: 200, type: "application/json" })
      }))

    it.live("bodies: text, JSON, url params, bytes, a stream", () =>
      Effect.gen(function*() {
        const result = yield* same((origin) =>
          Effect.all([
            json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyText("plain text"))),
            json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyJsonUnsafe({ a: 1, b: [true] }))),
            json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyUrlParams({ q: "a b", n: "1" }))),
            json(HttpClientRequest.post(`${origin}/echo`).pipe(
              HttpClientRequest.bodyUint8Array(new TextEncoder().encode("bytes"), "application/octet-stream")
            )),
            json(HttpClientRequest.post(`${origin}/echo`).pipe(
              HttpClientRequest.bodyStream(Stream.make("st", "re", "am").pipe(Stream.encodeText))
            ))
          ]))
        expect(result.ok.map((r: any) => r.body.body)).toEqual(["plain text", "{\"a\":1,\"b\":[true]}", "q=a+b&n=1", "bytes", "stream"])
      }))

    it.live("headers (custom, multi-valued), query parameters, status codes and their bodies", () =>
      Effect.gen(function*() {
        const status = (origin: string, code: number) =>
          Effect.flatMap(HttpClient.get(`${origin}/status?code=${code}`), (r) => Effect.map(r.text, (text) => ({ status: r.status, text })))
        const result = yield* same((origin) =>
          Effect.all([
            json(HttpClientRequest.get(`${origin}/echo`).pipe(
              HttpClientRequest.setHeader("x-one", "1"),
              HttpClientRequest.setUrlParams({ a: "1", b: "two" })
            )),
            Effect.map(HttpClient.get(`${origin}/echo`), (r) => r.headers["x-multi"]),
            status(origin, 404),
            status(origin, 503),
            status(origin, 204)
          ]))
        expect(result.ok[0].body).toMatchObject({ query: "?a=1&b=two", headers: { "x-one": "1" } })
        expect(result.ok[2]).toEqual({ status: 404, text: "status 404" })
      }))

    it.live("filterStatusOk fails typed; redirects are not followed unless asked (followRedirects)", () =>
      Effect.gen(function*() {
        const failed = yield* same((origin) =>
          Effect.flatMap(HttpClient.HttpClient, (client) => client.pipe(HttpClient.filterStatusOk).get(`${origin}/status?code=500`)))
        expect(failed.failed).toEqual({ tag: "HttpClientError", reason: "StatusCodeError" })
        const redirects = yield* same((origin) =>
          Effect.gen(function*() {
            const client = yield* HttpClient.HttpClient
            const plain = yield* Effect.map(client.get(`${origin}/redirect`), (r) => ({ status: r.status, location: r.headers.location }))
            const followed = yield* Effect.flatMap(client.pipe(HttpClient.followRedirects()).get(`${origin}/redirect`), (r) => r.json)
            return { plain, followed }
          }))
        expect(redirects.ok).toMatchObject({ plain: { status: 302, location: "/echo?from=redirect" }, followed: { query: "?from=redirect" } })
      }))

    it.live("cookies: set-cookie kept by withCookiesRef and sent back", () =>
      Effect.gen(function*() {
        const result = yield* same((origin) =>
          Effect.gen(function*() {
            const jar = yield* Ref.make<ReadonlyArray<Cookies.Cookie>>([])
            const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withCookiesRef(jar))
            yield* client.get(`${origin}/cookie`)
            return yield* Effect.flatMap(client.get(`${origin}/echo`), (r) => r.json)
          }))
        expect(result.ok.headers.cookie).toBe("session=abc; theme=dark")
      }))

    it.live("responses: streamed in chunks, large, compressed (not decoded by either), schema-decoded", () =>
      Effect.gen(function*() {
        const result = yield* same((origin) =>
          Effect.gen(function*() {
            const streamed = yield* HttpClient.get(`${origin}/stream?n=20`).pipe(
              HttpClientResponse.stream,
              Stream.decodeText,
              Stream.mkString
            )
            const big = yield* Effect.flatMap(HttpClient.get(`${origin}/big?n=${8 * 1024 * 1024}`), (r) => Effect.map(r.arrayBuffer, (b) => b.byteLength))
            const gzip = yield* Effect.flatMap(HttpClient.get(`${origin}/gzip`), (r) =>
              Effect.map(r.arrayBuffer, (b) => ({ bytes: b.byteLength, encoding: r.headers["content-encoding"] })))
            const Person = Schema.Struct({ id: Schema.Number, name: Schema.String, tags: Schema.Array(Schema.String) })
            const decoded = yield* Effect.flatMap(HttpClient.get(`${origin}/json`), HttpClientResponse.schemaBodyJson(Person))
            const rejected = yield* Effect.flip(
              Effect.flatMap(HttpClient.get(`${origin}/json`), HttpClientResponse.schemaBodyJson(Schema.Struct({ id: Schema.String })))
            )
            return { streamed: streamed.split("\n").length, big, gzip, decoded, rejected: rejected._tag }
          }))
        expect(result.ok).toMatchObject({ streamed: 21, big: 8 * 1024 * 1024, decoded: { name: "Ada" } })
      }), 60_000)

    it.live("timeouts and aborts: a request cut by Effect.timeout, then the next one works", () =>
      Effect.gen(function*() {
        const result = yield* same((origin) =>
          Effect.gen(function*() {
            const timedOut = yield* Effect.exit(Effect.flatMap(HttpClient.get(`${origin}/slow`), (r) => r.text).pipe(Effect.timeout("200 millis")))
            const after = yield* Effect.flatMap(HttpClient.get(`${origin}/json`), (r) => r.json)
            return { timedOut: Exit.isFailure(timedOut) ? failureOf(timedOut.cause).tag : "Success", after }
          }))
        expect(result.ok).toMatchObject({ timedOut: "TimeoutError", after: { id: 1 } })
      }))
  })
}

describe("conformance: failures", () => {
  it.live("connection refused: a typed HttpClientError with reason TransportError on both", () =>
    Effect.gen(function*() {
      const results: Array<unknown> = []
      for (const layer of [NodeHttpClient.layerUndici, HttpPool.layer()]) {
        results.push(outcome(yield* Effect.exit(Effect.provide(HttpClient.get("http://127.0.0.1:1/"), Layer.fresh(layer)))))
      }
      expect(results[0]).toEqual({ failed: { tag: "HttpClientError", reason: "TransportError" } })
      expect(results[1]).toEqual(results[0])
    }))
})

describe("conformance: differences (documented in the README)", () => {
  it.live("a server closing kept-alive sockets as they are reused: layerUndici fails GETs, ours retries them once and none fails", () =>
    Effect.gen(function*() {
      const s = yield* Effect.acquireRelease(
        Effect.promise(() => startHttpServer({ dropReusedSockets: true })),
        (s) => Effect.promise(s.close)
      )
      const failures = (layer: Layer.Layer<HttpClient.HttpClient, unknown>) =>
        Effect.provide(
          Effect.map(
            Effect.forEach(Array.from({ length: 100 }), () => Effect.exit(Effect.flatMap(HttpClient.get(`${s.origin}/`), (r) => r.text))),
            (exits) => exits.filter(Exit.isFailure).length
          ),
          Layer.fresh(layer)
        )
      expect(yield* failures(HttpPool.layer({ maxConnectionsPerOrigin: 1 }))).toBe(0)
      expect(yield* failures(NodeHttpClient.layerUndiciOptions({ connections: 1 }))).toBeGreaterThan(0)
    }))
})
