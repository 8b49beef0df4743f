/**
 * An `HttpApi` client (HttpApiClient.make) with a multipart payload and a JSON one, against a
 * real HttpApi server, through NodeHttpClient.layer and HttpPool.layer: the same results.
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiClient,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiSchema,
  type HttpClient,
  HttpServer,
  Multipart
} from "@effect/platform"
import { NodeContext, NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Schema } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"

class Files extends HttpApiGroup.make("files")
  .add(
    HttpApiEndpoint.post("upload", "/upload")
      .setPayload(HttpApiSchema.Multipart(Schema.Struct({ title: Schema.String, files: Multipart.FilesSchema })))
      .addSuccess(Schema.Struct({ title: Schema.String, sizes: Schema.Array(Schema.Number), names: Schema.Array(Schema.String) }))
  )
  .add(
    HttpApiEndpoint.post("create", "/items")
      .setPayload(Schema.Struct({ name: Schema.String, price: Schema.Number }))
      .addSuccess(Schema.Struct({ id: Schema.Number, name: Schema.String }))
  )
{}
class Api extends HttpApi.make("api").add(Files) {}

const FilesLive = HttpApiBuilder.group(Api, "files", (handlers) =>
  handlers
    .handle("upload", ({ payload }) =>
      Effect.succeed({
        title: payload.title,
        sizes: payload.files.map((f) => readFileSync(f.path).length),
        names: payload.files.map((f) => f.name)
      }))
    .handle("create", ({ payload }) => Effect.succeed({ id: 1, name: payload.name })))

/** The API served on a free port for the scope; its origin. */
const serve = Effect.gen(function*() {
  const context = yield* Layer.build(HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(FilesLive))),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provide(NodeContext.layer)
  ))
  return `http://127.0.0.1:${(Context.get(context, HttpServer.HttpServer).address as HttpServer.TcpAddress).port}`
})

const layers: Record<string, Layer.Layer<HttpClient.HttpClient, unknown>> = {
  "NodeHttpClient.layer": NodeHttpClient.layer,
  "HttpPool.layer": HttpPool.layer({ maxConnectionsPerOrigin: 2 }) as Layer.Layer<HttpClient.HttpClient, unknown>
}

describe("HttpApiClient through HttpPool.layer, as through NodeHttpClient.layer", () => {
  it.live("a multipart payload with files, and a JSON payload", () =>
    Effect.gen(function*() {
      const baseUrl = yield* serve
      const results: Record<string, unknown> = {}
      for (const [name, layer] of Object.entries(layers)) {
        results[name] = yield* Effect.gen(function*() {
          const client = yield* HttpApiClient.make(Api, { baseUrl })
          const form = new FormData()
          form.append("title", "scans")
          form.append("files", new File([new Uint8Array(2 * 1024 * 1024).fill(1)], "a.bin"))
          form.append("files", new File(["hello"], "b.txt", { type: "text/plain" }))
          const uploaded = yield* client.files.upload({ payload: form as any })
          const created = yield* client.files.create({ payload: { name: "lamp", price: 12.5 } })
          return { uploaded, created }
        }).pipe(Effect.provide(Layer.fresh(layer)))
      }
      expect(results["HttpPool.layer"]).toEqual(results["NodeHttpClient.layer"])
      expect(results["HttpPool.layer"]).toEqual({
        uploaded: { title: "scans", sizes: [2 * 1024 * 1024, 5], names: ["a.bin", "b.txt"] },
        created: { id: 1, name: "lamp" }
      })
    }).pipe(Effect.scoped), 60_000)
})
