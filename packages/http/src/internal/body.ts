/**
 * Request bodies undici cannot encode itself, encoded before they reach it. Node's global
 * `FormData` (and `Response`) come from the undici bundled with Node, not from the undici
 * package @effect/platform-node dispatches with: that one's `instanceof FormData` fails on a
 * global FormData and it throws "action is not a function". Such a body is encoded as multipart
 * by Node's own `Response` (which knows its own FormData), streamed — a File part is read as it is
 * sent, never buffered — with the `content-type` (boundary) it comes with.
 *
 * @internal
 */
import * as Undici from "@effect/platform-node/Undici"
import { Readable } from "node:stream"

type DispatchOptions = Undici.Dispatcher.DispatchOptions

// Node's own FormData, not only its tag: an object that merely says "FormData" would be sent as
// the text "[object FormData]"; left to undici, it is refused as the body it is not
const isForeignFormData = (body: unknown): body is FormData =>
  typeof FormData === "function" && body instanceof FormData && !(body instanceof Undici.FormData)

/** `headers` (object, flat array or iterable of pairs) without `content-type`/`content-length`, plus `extra`. */
const withHeaders = (headers: DispatchOptions["headers"], extra: Record<string, string>): Record<string, string | Array<string>> => {
  const out: Record<string, string | Array<string>> = {}
  const add = (key: string, value: unknown) => {
    const name = key.toLowerCase()
    if (name === "content-type" || name === "content-length" || value === undefined) return
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1])
  } else if (headers !== null && headers !== undefined && typeof (headers as any)[Symbol.iterator] === "function") {
    for (const [key, value] of headers as Iterable<[string, unknown]>) add(key, value)
  } else if (headers !== null && headers !== undefined) {
    for (const [key, value] of Object.entries(headers)) add(key, value)
  }
  return { ...out, ...extra }
}

/** `opts` with a foreign FormData body encoded as a multipart stream; other bodies as they are. */
export const encodeBody = (opts: DispatchOptions): DispatchOptions => {
  const body = opts.body as unknown
  if (!isForeignFormData(body)) return opts
  const encoded = new Response(body)
  return {
    ...opts,
    headers: withHeaders(opts.headers, { "content-type": encoded.headers.get("content-type")! }),
    body: encoded.body === null ? null : Readable.fromWeb(encoded.body as any)
  }
}
