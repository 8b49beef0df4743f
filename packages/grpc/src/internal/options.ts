/**
 * `GrpcPool.make`'s options, checked: every key known (other pools' names answered with ours),
 * every value of its type and range.
 *
 * @internal
 */
import { OptionCheck } from "@effect-pool/core"
import { backendOptionAliases, backendOptionKeys, parseBackendOptions } from "@effect-pool/engine/grpc/backends"
import { isLoopbackTarget } from "@effect-pool/engine/grpc/resolve"
import * as grpc from "@grpc/grpc-js"
import type * as Schedule from "effect/Schedule"
import type { Options } from "../GrpcPool.js"

/** The options of `GrpcPool.make`, as documented on the public type. */
export type PoolOptions = Options

/** Our option names. */
const optionKeys = [
  "target", "credentials", "name", "minChannels", "maxChannels", "maxConcurrentStreamsPerChannel", "targetUtilization",
  "maxAge", "maxAgeJitter", "keepalive", "channelOptions", "healthCheck", "idleTimeout", "connectTimeout",
  "acquireTimeout", "shutdownTimeout", "waitForReady", ...backendOptionKeys
]
/**
 * Names other pools (the core's, grpc-gcp's ChannelPool, gax's ChannelPoolSettings) give what
 * ours mean: not accepted — the error names ours, so that one name means one thing.
 */
const optionAliases: Record<string, string> = {
  min: "minChannels",
  max: "maxChannels",
  minSize: "minChannels",
  maxSize: "maxChannels",
  minChannelCount: "minChannels",
  maxChannelCount: "maxChannels",
  initialChannelCount: "minChannels",
  concurrency: "maxConcurrentStreamsPerChannel",
  maxConcurrentStreams: "maxConcurrentStreamsPerChannel",
  maxConcurrentStreamsLowWatermark: "maxConcurrentStreamsPerChannel (with targetUtilization)",
  maxLifetime: "maxAge",
  maxLifetimeJitter: "maxAgeJitter",
  validateTimeout: "healthCheck.timeout",
  createTimeout: "connectTimeout",
  options: "channelOptions",
  ...backendOptionAliases
}
/** grpc-js channel options that have an option of ours. */
const channelOptionAliases: Record<string, string> = {
  "grpc.keepalive_time_ms": "keepalive.time",
  "grpc.keepalive_timeout_ms": "keepalive.timeout",
  "grpc.keepalive_permit_without_calls": "keepalive.permitWithoutCalls"
}

/** A `host:port` (or `dns:`/`ipv4:`/`ipv6:` URI) whose port is a port; other schemes are grpc-js's to parse. */
const checkTarget = (check: OptionCheck.Checker, target: string): void => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase()
  let rest = target
  if (scheme === "dns") rest = target.replace(/^dns:(\/\/[^/]*\/)?/i, "")
  else if (scheme === "ipv4" || scheme === "ipv6") rest = target.slice(scheme.length + 1).split(",")[0]!
  else if (scheme !== undefined && !/^\d+$/.test(target.slice(scheme.length + 1))) return // unix:, vsock:, xds:, …
  const hostPort = grpc.experimental.splitHostPort(rest)
  if (hostPort === null || hostPort.host === "") check.fail("target", `is not a host:port or a gRPC target URI: ${JSON.stringify(target)}`)
  const port = hostPort!.port
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    check.fail("target", `has port ${port}, outside 1–65535: ${JSON.stringify(target)}`)
  }
  if (port === undefined && /:\s*$/.test(rest)) check.fail("target", `has an empty port: ${JSON.stringify(target)}`)
}

/** The options, checked: every key known, every value of its type and range. */
export const parseOptions = (input: PoolOptions) => {
  const name = OptionCheck.nameOf(input, "grpc")
  return OptionCheck.run(name, (check) => {
    // every option read once, into a copy (a getter that throws is that option's error)
    const options = check.options(input) as unknown as PoolOptions
    check.known(options, optionKeys, optionAliases)
    check.string("name", options.name, "grpc", { nonEmpty: true })
    const target = check.string("target", options.target, undefined, { nonEmpty: true })
    if (target === undefined) check.fail("target", "is required: a host:port or a gRPC target URI")
    checkTarget(check, target!)
    // plaintext only when asked for — or to this machine, where nothing is on the wire
    const credentials = options.credentials ?? (isLoopbackTarget(target!, grpc) ? grpc.credentials.createInsecure() : undefined)
    if (credentials === undefined) {
      check.fail("credentials", `is required for ${JSON.stringify(target)} (not a loopback address): grpc.credentials.createSsl(…) for TLS, or grpc.credentials.createInsecure() for plaintext, said explicitly`)
    }
    if (!(credentials instanceof grpc.ChannelCredentials)) {
      check.fail("credentials", `must be a grpc-js ChannelCredentials (grpc.credentials.createSsl / createInsecure), got ${OptionCheck.describeValue(credentials)}`)
    }
    const maxChannels = check.integer("maxChannels", options.maxChannels, 4, { min: 1, max: 10_000 })
    const minChannels = check.integer("minChannels", options.minChannels, 1, { min: 0 })
    if (minChannels > maxChannels) check.fail("minChannels", `must not exceed maxChannels (${maxChannels})`)
    const backends = parseBackendOptions(check, options, { minChannels, maxChannels })
    // HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS is 31 bits
    const streams = check.integer("maxConcurrentStreamsPerChannel", options.maxConcurrentStreamsPerChannel, 100, { min: 1, max: 2 ** 31 - 1 })
    const targetUtilization = check.number("targetUtilization", options.targetUtilization, 0.8, { min: 0, minExclusive: true, max: 1 })
    const maxAgeJitter = check.number("maxAgeJitter", options.maxAgeJitter, 0.1, { min: 0, max: 1 })
    // 0 is no limit for the ages and timeouts below that would otherwise make the pool unusable
    const maxAge = check.duration("maxAge", options.maxAge, Infinity, { zero: "reject" })
    const idleTimeout = check.duration("idleTimeout", options.idleTimeout, "10 minutes")
    const connectTimeout = check.duration("connectTimeout", options.connectTimeout, "10 seconds", { zero: "reject" })
    const acquireTimeout = check.duration("acquireTimeout", options.acquireTimeout, "30 seconds")
    const shutdownTimeout = check.duration("shutdownTimeout", options.shutdownTimeout, "10 seconds")
    const waitForReady = check.boolean("waitForReady", options.waitForReady, false)
    const keepalive = check.record("keepalive", options.keepalive)
    check.known(keepalive, ["time", "timeout", "permitWithoutCalls"], {}, "keepalive.")
    const keepaliveTime = check.duration("keepalive.time", keepalive?.time, "5 minutes", { zero: "reject" })
    const keepaliveTimeout = check.duration("keepalive.timeout", keepalive?.timeout, "20 seconds", { zero: "reject" })
    const permitWithoutCalls = check.boolean("keepalive.permitWithoutCalls", keepalive?.permitWithoutCalls, false)
    const channelOptions = check.record("channelOptions", options.channelOptions) ?? {}
    for (const [key, value] of Object.entries(channelOptions)) {
      if (value === undefined) continue
      const ours = Object.hasOwn(channelOptionAliases, key) ? channelOptionAliases[key] : undefined
      if (ours !== undefined) check.fail(`channelOptions["${key}"]`, `is set by the pool; use ${ours} instead`)
      if (!/^grpc(-node)?\./.test(key)) check.fail(`channelOptions["${key}"]`, "is not a grpc-js channel option (they start with grpc. or grpc-node.)")
      if (key !== "grpc.use_local_subchannel_pool" && !["string", "number", "object", "function"].includes(typeof value)) {
        check.fail(`channelOptions["${key}"]`, `must be a number or a string, got ${OptionCheck.describeValue(value)}`)
      }
    }
    // core's shape without its check (Health/Check is the pool's) plus `service`
    const health = OptionCheck.healthCheck(check, options.healthCheck, { userCheck: false, extraKeys: ["service"], timeout: "5 seconds" })
    const healthService = health === undefined ? undefined : check.string("healthCheck.service", health.input.service, "")
    const healthTimeout = health?.timeout ?? 5_000
    return {
      name, target: target!, credentials: credentials as grpc.ChannelCredentials, minChannels, maxChannels, streams, targetUtilization,
      maxAge, maxAgeJitter, idleTimeout, connectTimeout, acquireTimeout, shutdownTimeout, keepaliveTime, keepaliveTimeout,
      permitWithoutCalls, channelOptions: channelOptions as grpc.ChannelOptions, healthService,
      healthSchedule: health?.schedule as Schedule.Schedule<unknown> | undefined, healthTimeout, waitForReady, backends
    }
  })
}
