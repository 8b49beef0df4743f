/**
 * A pool's target resolved with grpc-js's own resolver for its scheme (`dns:`, `ipv4:`,
 * `ipv6:`, `unix:`, or any registered with `grpc.experimental.registerResolver`; a target
 * without a registered scheme is `dns:`, as grpc-js maps it), followed through re-resolution,
 * and the channel options that open a channel on ONE of its addresses while keeping what the
 * original target meant: its `:authority` (`grpc.default_authority`) and the name TLS verifies
 * (`grpc.ssl_target_name_override` = the original host), unless the user set them — TLS
 * verification is the same as for the whole target, never weaker. Callback-based, no Effect
 * import; needs `@grpc/grpc-js`.
 *
 * @example
 * ```ts
 * import { backendChannelOptions, watchTarget } from "@effect-pool/engine/grpc/resolve"
 *
 * const watch = watchTarget("ipv4:127.0.0.1:5001,127.0.0.1:5002", {}, (addresses) => console.log(addresses), (error) => console.log(error))
 * const options = backendChannelOptions("orders.internal:443", { "grpc.use_local_subchannel_pool": 1 })
 * // options["grpc.ssl_target_name_override"] === "orders.internal"
 * watch?.close()
 * ```
 * @since 0.1.0
 */
// the package itself first: loading it registers its resolvers (dns, ipv4, ipv6, unix)
import * as grpc from "@grpc/grpc-js"
// not in grpc-js's public API: how its channel maps a target to a scheme and an authority
import * as resolver from "@grpc/grpc-js/build/src/resolver.js"
import { parseUri } from "@grpc/grpc-js/build/src/uri-parser.js"

type GrpcUri = grpc.experimental.GrpcUri

/** The target as grpc-js's channel maps it (a scheme it knows, or `dns:`); `undefined` if it cannot. */
export const targetUri = (target: string): GrpcUri | undefined => {
  const parsed = parseUri(target)
  if (parsed === null) return undefined
  return resolver.mapUriDefaultScheme(parsed) ?? undefined
}

/** The target's default authority as grpc-js computes it (what its channel sends as `:authority`). */
export const defaultAuthority = (target: string): string | undefined => {
  const uri = targetUri(target)
  if (uri === undefined) return undefined
  try {
    return resolver.getDefaultAuthority(uri)
  } catch {
    return undefined
  }
}

/**
 * `options` for a channel opened on one address of `target`: `grpc.default_authority` (the
 * target's authority) and `grpc.ssl_target_name_override` (its host, what TLS checks the
 * certificate against) added unless `options` has them.
 */
export const backendChannelOptions = (target: string, options: grpc.ChannelOptions): grpc.ChannelOptions => {
  const authority = defaultAuthority(target)
  if (authority === undefined) return options
  const host = grpc.experimental.splitHostPort(authority)?.host ?? authority
  return {
    ...options,
    "grpc.default_authority": options["grpc.default_authority"] ?? authority,
    "grpc.ssl_target_name_override": options["grpc.ssl_target_name_override"] ?? host
  }
}

/** A target being followed: `refresh` asks the resolver again (grpc-js rate-limits DNS itself); `close` stops. */
export interface TargetWatch {
  readonly refresh: () => void
  readonly close: () => void
}

/**
 * Resolves `target` and reports each result: `addresses` (one per endpoint, its first address,
 * as grpc-js's `subchannelAddressToString` writes it, in the resolver's order) or `error` (a
 * resolution error, or no address). `undefined` when no resolver takes the target. Never
 * calls back synchronously, nor after `close`; a throwing callback is its caller's bug and is
 * not caught here.
 */
export const watchTarget = (
  target: string,
  options: grpc.ChannelOptions,
  addresses: (addresses: ReadonlyArray<string>) => void,
  error: (reason: string) => void
): TargetWatch | undefined => {
  const uri = targetUri(target)
  if (uri === undefined) return undefined
  let closed = false
  let instance: grpc.experimental.Resolver
  try {
    instance = grpc.experimental.createResolver(uri, (result) => {
      if (closed) return false
      if (!result.ok) {
        error(result.error.details)
        return true
      }
      const list = result.value.flatMap((endpoint) => (endpoint.addresses[0] === undefined ? [] : [grpc.experimental.subchannelAddressToString(endpoint.addresses[0])]))
      if (list.length === 0) error("the target resolved to no address")
      else addresses(list)
      return true
    }, options)
  } catch {
    return undefined
  }
  instance.updateResolution()
  return {
    refresh: () => {
      if (!closed) instance.updateResolution()
    },
    close: () => {
      if (closed) return
      closed = true
      instance.destroy()
    }
  }
}
