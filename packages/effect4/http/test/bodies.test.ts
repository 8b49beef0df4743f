/**
 * Request bodies of every kind reach a real node:http server through HttpPool.layer exactly as
 * through @effect/platform-node 4's NodeHttpClient.layerUndici and layerNodeHttp (node:http): form
 * data with text fields, a file of several MB and a Blob (Node's global FormData), and a web
 * ReadableStream.
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpPool } from "@effect-pool/http"
import { startHttpServer } from "@effect-pool/testing-effect4"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Stream } from "effect"
import { HttpBody, HttpClient, HttpClientRequest } from "effect/http"
import { createHash } from "node:crypto"
import type { IncomingMessage } from "node:http"

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** What the server parsed: fields, files (name, type, size, hash), or the raw body's size and hash. */
const parse = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  const type = req.headers["content-type"] ?? ""
  if (!type.startsWith("multipart/form-data")) return { raw: { size: body.length, sha: sha(body) }, type, chunked: req.headers["transfer-encoding"] === "chunked" }
  const form = await new Response(body, { headers: { "content-type": type } }).formData()
  const entries: Array<unknown> = []
  for (const [name, value] of form) {
    if (typeof value === "string") entries.push({ name, value })
    else entries.push({ name, file: value.name, type: value.type, size: value.size, sha: sha(new Uint8Array(await value.arrayBuffer())) })
  }
  return { multipart: entries, boundaryInType: /boundary=/.test(type) }
}

const server = Effect.acquireRelease(
  Effect.promise(() =>
    startHttpServer({
      handler: (req, res) => {
        parse(req).then((parsed) => res.end(JSON.stringify(parsed)), (error) => {
          res.statusCode = 500
          res.end(String(error))
        })
      }
    })
  ),
  (s) => Effect.promise(s.close)
)

const fiveMegabytes = () => {
  const bytes = new Uint8Array(5 * 1024 * 1024)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff
  return bytes
}

/** The same request through a layer: what the server parsed. */
const send = (request: HttpClientRequest.HttpClientRequest, layer: Layer.Layer<HttpClient.HttpClient, unknown>) =>
  Effect.flatMap(HttpClient.execute(request), (r) => r.json).pipe(Effect.provide(Layer.fresh(layer)))

const layers = {
  "NodeHttpClient.layerUndici": NodeHttpClient.layerUndici as Layer.Layer<HttpClient.HttpClient, unknown>,
  "NodeHttpClient.layerNodeHttp": NodeHttpClient.layerNodeHttp as Layer.Layer<HttpClient.HttpClient, unknown>,
  "HttpPool.layer": HttpPool.layer({ maxConnectionsPerOrigin: 2 }) as Layer.Layer<HttpClient.HttpClient, unknown>
}

describe("request bodies through HttpPool.layer, as through layerUndici and layerNodeHttp", () => {
  it.live("multipart: text fields, a 5 MB file and a Blob in Node's global FormData", () =>
    Effect.gen(function*() {
      const s = yield* server
      const form = () => {
        const data = new FormData()
        data.append("title", "holiday photos")
        data.append("tags", "sea")
        data.append("tags", "sun")
        data.append("photo", new File([fiveMegabytes()], "photo.raw", { type: "application/octet-stream" }))
        data.append("note", new Blob(["a blob of text"], { type: "text/plain" }), "note.txt")
        return data
      }
      const results: Record<string, unknown> = {}
      for (const [name, layer] of Object.entries(layers)) {
        results[name] = yield* send(HttpClientRequest.post(`${s.origin}/upload`).pipe(HttpClientRequest.bodyFormData(form())), layer)
      }
      expect(results["HttpPool.layer"]).toEqual(results["NodeHttpClient.layerUndici"])
      expect(results["HttpPool.layer"]).toEqual(results["NodeHttpClient.layerNodeHttp"])
      expect(results["HttpPool.layer"]).toMatchObject({
        boundaryInType: true,
        multipart: [
          { name: "title", value: "holiday photos" },
          { name: "tags", value: "sea" },
          { name: "tags", value: "sun" },
          { name: "photo", file: "photo.raw", size: 5 * 1024 * 1024, sha: sha(fiveMegabytes()) },
          { name: "note", file: "note.txt", type: "text/plain", size: 14 }
        ]
      })
    }).pipe(Effect.scoped), 60_000)

  it.live("HttpBody.formData and a web ReadableStream body", () =>
    Effect.gen(function*() {
      const s = yield* server
      const bytes = fiveMegabytes()
      const webStream = () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 256 * 1024) controller.enqueue(bytes.subarray(i, i + 256 * 1024))
            controller.close()
          }
        })
      for (const [name, layer] of Object.entries(layers)) {
        const formData = new FormData()
        formData.append("field", "value")
        const viaBody = yield* send(HttpClientRequest.post(`${s.origin}/form`).pipe(HttpClientRequest.setBody(HttpBody.formData(formData))), layer)
        expect(viaBody, name).toEqual({ multipart: [{ name: "field", value: "value" }], boundaryInType: true })
        const streamed = yield* send(
          HttpClientRequest.post(`${s.origin}/stream`).pipe(
            HttpClientRequest.bodyStream(Stream.fromReadableStream({ evaluate: webStream, onError: (e) => e as Error }), { contentType: "application/octet-stream" })
          ),
          layer
        )
        expect(streamed, name).toMatchObject({ raw: { size: bytes.length, sha: sha(bytes) }, type: "application/octet-stream" })
      }
    }).pipe(Effect.scoped), 60_000)
})
