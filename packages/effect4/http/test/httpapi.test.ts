/**
 * An `HttpApi` client (HttpApiClient.make) with a multipart payload and a JSON one, against a
 * real HttpApi server (platform-node 4's NodeHttpServer), through layerUndici and HttpPool.layer:
 * the same results — over HTTP/1.1, and over HTTP/2 (the server on node:http2).
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { selfSignedCertificate } from "@effect-pool/testing-effect4"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Schema } from "effect"
import { type HttpClient, HttpRouter, HttpServer, Multipart } from "effect/http"
import { HttpApi, HttpApiBuilder, HttpApiClient, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import { createSecureServer } from "node:http2"

class Files extends HttpApiGroup.make("files")
  .add(HttpApiEndpoint.post("upload", "/upload", {
    payload: Schema.Struct({ title: Schema.String, files: Multipart.FilesSchema }).pipe(HttpApiSchema.asMultipart()),
    success: Schema.Struct({ title: Schema.String, sizes: Schema.Array(Schema.Number), names: Schema.Array(Schema.String) })
  }))
  .add(HttpApiEndpoint.post("create", "/items", {
    payload: Schema.Struct({ name: Schema.String, price: Schema.Number }),
    success: Schema.Struct({ id: Schema.Number, name: Schema.String })
  }))
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

const certificate = selfSignedCertificate()

/** The API served on a free port for the scope; its origin. */
const serve = (protocol: "h1" | "h2") =>
  Effect.gen(function*() {
    const server = HttpRouter.serve(HttpApiBuilder.layer(Api).pipe(Layer.provide(FilesLive)), {
      disableListenLog: true,
      disableLogger: true
    }).pipe(Layer.provideMerge(NodeHttpServer.layer(
      () => protocol === "h1" ? createServer() : createSecureServer({ key: certificate.key, cert: certificate.cert }),
      { port: 0, host: "127.0.0.1" }
    )))
    const context = yield* Layer.build(server)
    const address = Context.get(context, HttpServer.HttpServer).address as { readonly port: number }
    return `${protocol === "h1" ? "http" : "https"}://127.0.0.1:${address.port}`
  })

const tls = { ca: certificate.cert }
const layers = {
  h1: {
    "NodeHttpClient.layerUndici": NodeHttpClient.layerUndici as Layer.Layer<HttpClient.HttpClient, unknown>,
    "HttpPool.layer": HttpPool.layer({ maxConnectionsPerOrigin: 2 }) as Layer.Layer<HttpClient.HttpClient, unknown>
  },
  h2: {
    "NodeHttpClient.layerUndici": NodeHttpClient.layerUndiciOptions({ connect: tls }) as Layer.Layer<HttpClient.HttpClient, unknown>,
    "HttpPool.layer": HttpPool.layer({ maxConnectionsPerOrigin: 2, tls }) as Layer.Layer<HttpClient.HttpClient, unknown>
  }
}

describe("HttpApiClient through HttpPool.layer, as through layerUndici", () => {
  for (const protocol of ["h1", "h2"] as const) {
    it.live(`${protocol}: a multipart payload with files, and a JSON payload`, () =>
      Effect.gen(function*() {
        const baseUrl = yield* serve(protocol)
        const results: Record<string, unknown> = {}
        for (const [name, layer] of Object.entries(layers[protocol])) {
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
        expect(results["HttpPool.layer"]).toEqual(results["NodeHttpClient.layerUndici"])
        expect(results["HttpPool.layer"]).toEqual({
          uploaded: { title: "scans", sizes: [2 * 1024 * 1024, 5], names: ["a.bin", "b.txt"] },
          created: { id: 1, name: "lamp" }
        })
      }), 60_000)
  }
})
