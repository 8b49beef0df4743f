/**
 * A pool's target resolved with grpc-js's own resolver for its scheme (`dns:`, `ipv4:`,
 * `ipv6:`, `unix:`, or any registered with `grpc.experimental.registerResolver`; a target
 * without a registered scheme is `dns:`, as grpc-js maps it), followed through re-resolution,
 * and the channel options that open a channel on ONE of its addresses while keeping what the
 * original target meant: its `:authority` (`grpc.default_authority`) and the name TLS verifies
 * (`grpc.ssl_target_name_override` = the original host), unless the user set them — TLS
 * verification is the same as for the whole target, never weaker. Callback-based, no Effect
 * import; needs `@grpc/grpc-js`: each function takes the edition's copy (`GrpcResolving`, only
 * its public API is used), so a scheme registered in that copy is seen.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js"
 * import { backendChannelOptions, watchTarget } from "@effect-pool/engine/grpc/resolve"
 *
 * // the edition's grpc-js: a scheme registered in it is seen
 * const watch = watchTarget("ipv4:127.0.0.1:5001,127.0.0.1:5002", {}, (addresses) => console.log(addresses), (error) => console.log(error), grpc)
 * const options = backendChannelOptions("orders.internal:443", { "grpc.use_local_subchannel_pool": 1 }, grpc)
 * // options["grpc.ssl_target_name_override"] === "orders.internal"
 * watch?.close()
 * ```
 * @since 0.1.0
 */
// the engine's own copy, used when the caller passes none: loading it registers its resolvers
// (dns, ipv4, ipv6, unix)
import * as grpc from "@grpc/grpc-js"

type GrpcUri = grpc.experimental.GrpcUri

/**
 * The part of `@grpc/grpc-js` resolving needs: pass the edition's copy (the one its pool's
 * channels are made with) — grpc-js keeps its registered resolver schemes per copy, so a scheme
 * registered with `grpc.experimental.registerResolver` is seen only through the copy it was
 * registered in. [the engine's own import]
 */
export interface GrpcResolving {
  readonly experimental: {
    readonly createResolver: typeof grpc.experimental.createResolver
    readonly subchannelAddressToString: typeof grpc.experimental.subchannelAddressToString
    readonly splitHostPort: typeof grpc.experimental.splitHostPort
    readonly uriToString: typeof grpc.experimental.uriToString
  }
}

/** A registered resolver class (grpc-js's `ResolverConstructor`: `registerResolver`'s second argument). */
type ResolverClass = Parameters<typeof grpc.experimental.registerResolver>[1]

/** grpc-js's target syntax (its uri-parser's): `[scheme:][//authority/]path`. */
const URI = /^(?:([A-Za-z0-9+.-]+):)?(?:\/\/([^/]*)\/)?(.+)$/

const parseUri = (target: string): GrpcUri | undefined => {
  const m = URI.exec(target)
  if (m === null) return undefined
  const uri: { scheme?: string; authority?: string; path: string } = { path: m[3]! }
  if (m[1] !== undefined) uri.scheme = m[1]
  if (m[2] !== undefined) uri.authority = m[2]
  return uri
}

const ignore = () => true

/**
 * A resolver for `target` as grpc-js's channel makes one (its scheme's, or `dns:` when no
 * resolver is registered for its scheme — grpc-js's default scheme), made through `module`'s
 * public `createResolver`; `undefined` if none can be made.
 */
const resolverFor = (
  target: string,
  module: GrpcResolving,
  listener: grpc.experimental.ResolverListener,
  options: grpc.ChannelOptions
): { readonly uri: GrpcUri; readonly resolver: grpc.experimental.Resolver } | undefined => {
  const parsed = parseUri(target)
  if (parsed === undefined) return undefined
  const create = (uri: GrpcUri) => ({ uri, resolver: module.experimental.createResolver(uri, listener, options) })
  try {
    return create(parsed)
  } catch (error) {
    // a registered scheme whose resolver refuses the target: none (grpc-js's channel fails it too)
    if (!(error instanceof Error && error.message.startsWith("No resolver could be created"))) return undefined
  }
  try {
    return create({ scheme: "dns", path: module.experimental.uriToString(parsed) })
  } catch {
    return undefined
  }
}

/** The target as grpc-js's channel maps it (a scheme registered in `module`, or `dns:`); `undefined` if it cannot. */
export const targetUri = (target: string, module: GrpcResolving = grpc): GrpcUri | undefined => {
  const made = resolverFor(target, module, ignore, {})
  made?.resolver.destroy()
  return made?.uri
}

/** The target's default authority as grpc-js computes it (what its channel sends as `:authority`). */
export const defaultAuthority = (target: string, module: GrpcResolving = grpc): string | undefined => {
  const made = resolverFor(target, module, ignore, {})
  if (made === undefined) return undefined
  made.resolver.destroy()
  try {
    return (made.resolver.constructor as ResolverClass).getDefaultAuthority(made.uri)
  } catch {
    return undefined
  }
}

/**
 * `options` for a channel opened on one address of `target`: `grpc.default_authority` (the
 * target's authority) and `grpc.ssl_target_name_override` (its host, what TLS checks the
 * certificate against) added unless `options` has them.
 */
export const backendChannelOptions = (target: string, options: grpc.ChannelOptions, module: GrpcResolving = grpc): grpc.ChannelOptions => {
  const authority = defaultAuthority(target, module)
  if (authority === undefined) return options
  const host = module.experimental.splitHostPort(authority)?.host ?? authority
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
 * resolution error, or no address). `undefined` when no resolver takes the target. Resolved
 * with `module`'s resolvers (the edition's grpc-js: see `GrpcResolving`). Never calls back
 * synchronously, nor after `close`; a throwing callback is its caller's bug and is not caught here.
 */
export const watchTarget = (
  target: string,
  options: grpc.ChannelOptions,
  addresses: (addresses: ReadonlyArray<string>) => void,
  error: (reason: string) => void,
  module: GrpcResolving = grpc
): TargetWatch | undefined => {
  let closed = false
  const made = resolverFor(target, module, (result) => {
    if (closed) return false
    if (!result.ok) {
      error(result.error.details)
      return true
    }
    const list = result.value.flatMap((endpoint) => (endpoint.addresses[0] === undefined ? [] : [module.experimental.subchannelAddressToString(endpoint.addresses[0])]))
    if (list.length === 0) error("the target resolved to no address")
    else addresses(list)
    return true
  }, options)
  if (made === undefined) return undefined
  const instance = made.resolver
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

/** A host on this machine: `localhost`, 127.0.0.0/8, `::1`. */
const loopbackHost = (host: string | undefined): boolean => {
  const h = host?.toLowerCase()
  return h === "localhost" || h === "::1" || (h !== undefined && /^127\.\d+\.\d+\.\d+$/.test(h))
}

/**
 * Every address of `target` is on this machine (`localhost`, 127.0.0.0/8, `::1`, a unix socket),
 * so plaintext puts nothing on the wire. An `ipv4:`/`ipv6:` list is loopback only when each of its
 * addresses is: one other address among them and the pool would send plaintext off the machine.
 * Any other scheme (a registered resolver's) is not known to be loopback.
 */
export const isLoopbackTarget = (target: string, module: GrpcResolving = grpc): boolean => {
  if (/^unix(-abstract)?:/i.test(target)) return true
  const list = /^(ipv4|ipv6):/i.exec(target)
  if (list !== null) {
    const addresses = target.slice(list[0].length).split(",")
    return addresses.every((address) => loopbackHost(module.experimental.splitHostPort(address.trim())?.host))
  }
  // a DNS server of the target's own (dns://8.8.8.8/localhost) is not this machine's resolver
  if (/^dns:\/\/[^/]+\//i.test(target)) return false
  const rest = target.replace(/^dns:(\/\/\/)?/i, "")
  if (/^[A-Za-z][A-Za-z0-9+.-]*:(?!\d+$)/.test(rest)) return false // another scheme
  return loopbackHost(module.experimental.splitHostPort(rest)?.host)
}
