/**
 * @effect/platform-node 4's own HttpClient test suite (effect-smol
 * packages/platform-node/test/NodeHttpClient.test.ts), run against HttpPool.layer — over HTTP/1.1
 * and HTTP/2 — and against layerUndici as the reference. The original cases call google.com and
 * jsonplaceholder.typicode.com; here the same requests go to real local servers that answer the
 * same way (a page containing "Google", a redirect to it, a JSON todo API), so the suite runs
 * offline and cannot be flaky.
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { selfSignedCertificate, startHttp2Server, startHttpServer } from "@effect-pool/testing-effect4"
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, Schema, Stream, Struct } from "effect"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"

const Todo = Schema.Struct({ userId: Schema.Number, id: Schema.Number, title: Schema.String, completed: Schema.Boolean })
const TodoWithoutId = Schema.Struct({ ...Struct.omit(Todo.fields, ["id"]) })

const page = `<!doctype html><html><head><title>Google</title></head><body>${"Google ".repeat(20_000)}</body></html>`

const handler = (req: any, res: any) => {
  const url = new URL(req.url ?? "/", "http://x")
  if (url.pathname === "/" && url.searchParams.has("redirect")) {
    res.statusCode = 301
    res.setHeader("location", "/")
    return res.end()
  }
  if (url.pathname === "/") {
    res.setHeader("content-type", "text/html")
    return res.end(page)
  }
  if (url.pathname === "/slow") {
    // google's page never arrives within the suite's 1 ms; this one never arrives at all
    setTimeout(() => res.end(page), 10_000).unref()
    return
  }
  if (url.pathname === "/todos/1") {
    res.setHeader("content-type", "application/json")
    return res.end(JSON.stringify({ userId: 1, id: 1, title: "delectus aut autem", completed: false }))
  }
  if (url.pathname === "/todos" && req.method === "POST") {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      res.statusCode = 201
      res.setHeader("content-type", "application/json")
      res.end(JSON.stringify({ ...JSON.parse(Buffer.concat(chunks).toString()), id: 201 }))
    })
    return
  }
  if (url.pathname === "/todos" && req.method === "HEAD") {
    res.setHeader("content-type", "application/json")
    return res.end()
  }
  res.statusCode = 404
  res.end()
}

const certificate = selfSignedCertificate()
const h1 = Effect.acquireRelease(Effect.promise(() => startHttpServer({ handler })), (s) => Effect.promise(s.close))
const h2 = Effect.acquireRelease(
  Effect.promise(() => startHttp2Server({ tls: certificate, handler, allowHTTP1: false })),
  (s) => Effect.promise(s.close)
)

const cases = [
  { name: "HttpPool.layer, HTTP/1.1", server: h1, layer: HttpPool.layer() as Layer.Layer<HttpClient.HttpClient, unknown> },
  { name: "HttpPool.layer, HTTP/2", server: h2, layer: HttpPool.layer({ tls: { ca: certificate.cert } }) as Layer.Layer<HttpClient.HttpClient, unknown> },
  { name: "layerUndici (reference), HTTP/1.1", server: h1, layer: NodeHttpClient.layerUndici },
  { name: "layerUndici (reference), HTTP/2", server: h2, layer: NodeHttpClient.layerUndiciOptions({ connect: { ca: certificate.cert } }) }
]

for (const { layer, name, server } of cases) {
  const makeJsonPlaceholder = (origin: string) =>
    Effect.gen(function*() {
      const client = (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(origin)))
      const createTodo = (todo: typeof TodoWithoutId.Type) =>
        HttpClientRequest.post("/todos").pipe(
          HttpClientRequest.schemaBodyJson(TodoWithoutId)(todo),
          Effect.flatMap(client.execute),
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Todo))
        )
      return { client, createTodo } as const
    })
  interface JsonPlaceholder extends Effect.Success<ReturnType<typeof makeJsonPlaceholder>> {}
  const JsonPlaceholder = Context.Service<JsonPlaceholder>("test/JsonPlaceholder")
  const withJsonPlaceholder = <A, E>(origin: string, body: Effect.Effect<A, E, JsonPlaceholder>) =>
    Effect.provide(body, Layer.effect(JsonPlaceholder)(makeJsonPlaceholder(origin)).pipe(Layer.provide(Layer.fresh(layer))))

  describe(`platform-node's NodeHttpClient suite - ${name}`, () => {
    it.live("google", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* HttpClient.get(`${origin}/`).pipe(Effect.flatMap((_) => _.text), Effect.provide(Layer.fresh(layer)))
        expect(response).toContain("Google")
      }))

    it.live("google followRedirects", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* Effect.gen(function*() {
          const client = (yield* HttpClient.HttpClient).pipe(HttpClient.followRedirects())
          return yield* client.get(`${origin}/?redirect`).pipe(Effect.flatMap((_) => _.text))
        }).pipe(Effect.provide(Layer.fresh(layer)))
        expect(response).toContain("Google")
      }))

    it.live("google stream", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          return yield* client.get(`${origin}/`).pipe(
            Effect.map((_) => _.stream),
            Stream.unwrap,
            Stream.decodeText,
            Stream.mkString
          )
        }).pipe(Effect.provide(Layer.fresh(layer)))
        expect(response).toContain("Google")
      }))

    it.live("jsonplaceholder", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* withJsonPlaceholder(origin, Effect.gen(function*() {
          const jp = yield* JsonPlaceholder
          return yield* jp.client.get("/todos/1").pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Todo)))
        }))
        expect(response.id).toBe(1)
      }))

    it.live("jsonplaceholder schemaBodyJson", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* withJsonPlaceholder(origin, Effect.gen(function*() {
          const jp = yield* JsonPlaceholder
          return yield* jp.createTodo({ userId: 1, title: "test", completed: false })
        }))
        expect(response.title).toBe("test")
      }))

    it.live("head request with schemaJson", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          return yield* client.head(`${origin}/todos`).pipe(
            Effect.flatMap(HttpClientResponse.schemaJson(Schema.Struct({ status: Schema.Literal(200) })))
          )
        }).pipe(Effect.provide(Layer.fresh(layer)))
        expect(response).toEqual({ status: 200 })
      }))

    it.live("interrupt", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          return yield* client.get(`${origin}/slow`).pipe(
            Effect.flatMap((_) => _.text),
            Effect.timeout(1),
            Effect.asSome,
            Effect.catchTag("TimeoutError", () => Effect.succeedNone)
          )
        }).pipe(Effect.provide(Layer.fresh(layer)))
        expect(response._tag).toEqual("None")
      }))

    it.live("close early", () =>
      Effect.gen(function*() {
        const { origin } = yield* server
        const response = yield* HttpClient.get(`${origin}/`).pipe(Effect.provide(Layer.fresh(layer)))
        expect(response.status).toBe(200)
      }))
  })
}
