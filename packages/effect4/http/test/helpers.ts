/** Shared helpers of the http tests: real servers in the test's scope, a fresh pool per body. */
import { HttpPool } from "@effect-pool/http"
import { causeText, type Http2ServerOptions, startHttp2Server, startHttpServer } from "@effect-pool/testing-effect4"
import { Effect, Layer } from "effect"
import { HttpClient } from "effect/http"

export const server = (options?: Parameters<typeof startHttpServer>[0]) =>
  Effect.acquireRelease(Effect.promise(() => startHttpServer(options)), (s) => Effect.promise(s.close))

export const server2 = (options: Http2ServerOptions) =>
  Effect.acquireRelease(Effect.promise(() => startHttp2Server(options)), (s) => Effect.promise(s.close))

/** Runs `body` with a fresh pool layer. */
export const withPool = <A, E>(
  options: HttpPool.Options,
  body: Effect.Effect<A, E, HttpClient.HttpClient | HttpPool.HttpPool>
) => Effect.provide(body, Layer.fresh(HttpPool.layer(options)))

export const getText = (url: string) => Effect.flatMap(HttpClient.get(url), (r) => r.text)

/** The reason of an `HttpClientError` and its cause chain, as text to match against. */
export const why = (error: unknown): string => {
  const reason = (error as { reason?: unknown })?.reason
  return `${String((error as { _tag?: string })?._tag)} | ${causeText(reason ?? error)}`
}
