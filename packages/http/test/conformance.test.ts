/**
 * Conformance: request/response features of @effect/platform's HttpClient, run by the same code
 * against the default `NodeHttpClient.layer` (node:http) and `HttpPool.layer`, asserting the
 * same outcome. Differences are fixed, or listed in the README ("Differences from …").
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { startHttpServer } from "@effect-pool/testing"
import { Cookies, HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Cause, Chunk, Effect, Exit, Layer, Ref, Schema, Stream } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { gzipSync } from "node:zlib"

const readBody = async (req: IncomingMessage) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The routes every case uses. */
const routes = async (req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://x")
  const body = await readBody(req)
  switch (url.pathname) {
    case "/echo": {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-") || k === "content-type" || k === "cookie"))
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
      return res.end(`status ${res.statusCode}`)
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

const server = Effect.acquireRelease(
  Effect.promise(() => startHttpServer({ handler: (req, res) => void routes(req, res).catch(() => res.destroy()) })),
  (s) => Effect.promise(s.close)
)

const layers: Record<string, Layer.Layer<HttpClient.HttpClient, unknown>> = {
  "NodeHttpClient.layer": NodeHttpClient.layer,
  "HttpPool.layer": HttpPool.layer({ maxConnectionsPerOrigin: 4 }) as Layer.Layer<HttpClient.HttpClient, unknown>
}

/** The error a failure is about (node:http's layer can report one with a second, parallel one). */
const failureOf = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause) as { _tag?: string; reason?: string }
  return { tag: error?._tag, reason: error?.reason }
}

/** An outcome as comparable data. */
const outcome = (exit: Exit.Exit<unknown, unknown>): unknown =>
  JSON.parse(JSON.stringify(
    Exit.isSuccess(exit)
      ? { ok: exit.value }
      : { failed: failureOf(exit.cause) }
  ))

/** Runs `program` on both layers, expects the same outcome, returns it. */
const same = (program: (origin: string) => Effect.Effect<unknown, unknown, HttpClient.HttpClient>) =>
  Effect.gen(function*() {
    const s = yield* server
    const results: Record<string, unknown> = {}
    for (const [name, layer] of Object.entries(layers)) {
      results[name] = outcome(yield* Effect.exit(Effect.provide(program(s.origin), Layer.fresh(layer))))
    }
    expect(results["HttpPool.layer"]).toEqual(results["NodeHttpClient.layer"])
    return results["HttpPool.layer"] as { ok?: any; failed?: any }
  }).pipe(Effect.scoped)

const json = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.scoped(Effect.flatMap(HttpClient.execute(request), (r) => Effect.map(r.json, (body) => ({ status: r.status, body }))))

describe("conformance: HttpClient on NodeHttpClient.layer and HttpPool.layer", () => {
  it.live("methods", () =>
    Effect.gen(function*() {
      const result = yield* same((origin) =>
        Effect.forEach(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const, (method) =>
          json(HttpClientRequest.make(method)(`${origin}/echo`)))
      )
      expect(result.ok.map((r: any) => r.body.method)).toEqual(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
      const head = yield* same((origin) =>
        Effect.scoped(Effect.map(HttpClient.execute(HttpClientRequest.head(`${origin}/echo`)), (r) => ({ status: r.status, type: r.headers["content-type"] }))))
      expect(head.ok).toEqual({ status: 200, type: "application/json" })
    }))

  it.live("bodies: text, JSON, url params, bytes, a stream", () =>
    Effect.gen(function*() {
      const result = yield* same((origin) =>
        Effect.all([
          json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyText("plain text"))),
          json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyUnsafeJson({ a: 1, b: [true] }))),
          json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyUrlParams({ q: "a b", n: "1" }))),
          json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyUint8Array(new TextEncoder().encode("bytes"), "application/octet-stream"))),
          json(HttpClientRequest.post(`${origin}/echo`).pipe(HttpClientRequest.bodyStream(Stream.make("st", "re", "am").pipe(Stream.encodeText))))
        ]))
      expect(result.ok.map((r: any) => r.body.body)).toEqual(["plain text", '{"a":1,"b":[true]}', "q=a+b&n=1", "bytes", "stream"])
    }))

  it.live("headers (custom, multi-valued), query parameters, status codes and their bodies", () =>
    Effect.gen(function*() {
      const result = yield* same((origin) =>
        Effect.all([
          json(HttpClientRequest.get(`${origin}/echo`).pipe(HttpClientRequest.setHeader("x-one", "1"), HttpClientRequest.setUrlParams({ a: "1", b: "two" }))),
          Effect.scoped(Effect.map(HttpClient.get(`${origin}/echo`), (r) => r.headers["x-multi"])),
          Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/status?code=404`), (r) => Effect.map(r.text, (text) => ({ status: r.status, text })))),
          Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/status?code=503`), (r) => Effect.map(r.text, (text) => ({ status: r.status, text })))),
          Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/status?code=204`), (r) => Effect.map(r.text, (text) => ({ status: r.status, text }))))
        ]))
      expect(result.ok[0].body).toMatchObject({ query: "?a=1&b=two", headers: { "x-one": "1" } })
    }))

  it.live("filterStatusOk fails typed; redirects are not followed unless asked (followRedirects)", () =>
    Effect.gen(function*() {
      yield* same((origin) => Effect.flatMap(HttpClient.HttpClient, (client) =>
        Effect.scoped(client.pipe(HttpClient.filterStatusOk).get(`${origin}/status?code=500`))))
      const redirects = yield* same((origin) =>
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const plain = yield* Effect.scoped(Effect.map(client.get(`${origin}/redirect`), (r) => ({ status: r.status, location: r.headers.location })))
          const followed = yield* Effect.scoped(Effect.flatMap(client.pipe(HttpClient.followRedirects()).get(`${origin}/redirect`), (r) => r.json))
          return { plain, followed }
        }))
      expect(redirects.ok).toMatchObject({ plain: { status: 302, location: "/echo?from=redirect" }, followed: { query: "?from=redirect" } })
    }))

  it.live("cookies: set-cookie kept by withCookiesRef and sent back", () =>
    Effect.gen(function*() {
      const result = yield* same((origin) =>
        Effect.gen(function*() {
          const jar = yield* Ref.make(Cookies.empty)
          const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withCookiesRef(jar))
          yield* Effect.scoped(client.get(`${origin}/cookie`))
          return yield* Effect.scoped(Effect.flatMap(client.get(`${origin}/echo`), (r) => r.json))
        }))
      expect(result.ok.headers.cookie).toBe("session=abc; theme=dark")
    }))

  it.live("responses: streamed in chunks, large, compressed (not decoded by either), schema-decoded", () =>
    Effect.gen(function*() {
      const result = yield* same((origin) =>
        Effect.gen(function*() {
          const streamed = yield* HttpClient.get(`${origin}/stream?n=20`).pipe(
            HttpClientResponse.stream,
            Stream.decodeText(),
            Stream.runCollect,
            Effect.map((chunks) => Chunk.join(chunks, ""))
          )
          const big = yield* Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/big?n=${8 * 1024 * 1024}`), (r) => Effect.map(r.arrayBuffer, (b) => b.byteLength)))
          const gzip = yield* Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/gzip`), (r) => Effect.map(r.arrayBuffer, (b) => ({ bytes: b.byteLength, encoding: r.headers["content-encoding"] }))))
          const Person = Schema.Struct({ id: Schema.Number, name: Schema.String, tags: Schema.Array(Schema.String) })
          const decoded = yield* Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/json`), HttpClientResponse.schemaBodyJson(Person)))
          const rejected = yield* Effect.flip(Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/json`), HttpClientResponse.schemaBodyJson(Schema.Struct({ id: Schema.String })))))
          return { streamed: streamed.split("\n").length, big, gzip, decoded, rejected: rejected._tag }
        }))
      expect(result.ok).toMatchObject({ streamed: 21, big: 8 * 1024 * 1024, decoded: { name: "Ada" }, rejected: "ParseError" })
    }), 60_000)

  it.live("timeouts and aborts: a request cut by Effect.timeout or interruption, then the next one works", () =>
    Effect.gen(function*() {
      const result = yield* same((origin) =>
        Effect.gen(function*() {
          const timedOut = yield* Effect.exit(Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/slow`), (r) => r.text)).pipe(Effect.timeout("200 millis")))
          const after = yield* Effect.scoped(Effect.flatMap(HttpClient.get(`${origin}/json`), (r) => r.json))
          return { timedOut: timedOut._tag === "Failure" && timedOut.cause._tag === "Fail" ? (timedOut.cause.error as any)._tag : timedOut._tag, after }
        }))
      expect(result.ok).toMatchObject({ timedOut: "TimeoutException", after: { id: 1 } })
    }))

  it.live("connection refused: a typed RequestError with reason Transport", () =>
    Effect.gen(function*() {
      const result = yield* same(() => Effect.scoped(HttpClient.get("http://127.0.0.1:1/")))
      expect(result.failed).toEqual({ tag: "RequestError", reason: "Transport" })
    }))
})
