/**
 * A pool of @grpc/grpc-js channels to one target, each with a connection of its own, and an
 * Effect client over it: calls go to the least-loaded ready channel, new channels open past a
 * stream watermark, and channels that lose their connection or fail their health check are
 * replaced.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import * as grpc from "@grpc/grpc-js"
 * import { Effect } from "effect"
 *
 * declare const Greeter: grpc.ServiceClientConstructor // from loadPackageDefinition or generated code
 * interface GreeterApi { readonly sayHello: GrpcPool.Unary<{ name: string }, { message: string }> }
 *
 * const program = Effect.gen(function*() {
 *   const pool = yield* GrpcPool.make({ target: "127.0.0.1:50051", maxChannels: 4 })
 *   const greeter = GrpcPool.client<GreeterApi>(pool, Greeter)
 *   return yield* greeter.sayHello({ name: "Ada" }, { timeout: "2 seconds" })
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import type { PoolConfigError } from "@effect-pool/core"
import { Pool } from "@effect-pool/core"
import type * as grpc from "@grpc/grpc-js"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { GrpcError } from "./GrpcError.js"
import { clientOf } from "./internal/client.js"
import * as internal from "./internal/pool.js"
import type * as Backends from "@effect-pool/engine/grpc/backends"
import { channelStats } from "@effect-pool/engine/grpc/stats"

/**
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * declare const value: unknown
 * const isPool = typeof value === "object" && value !== null && GrpcPool.TypeId in value
 * ```
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@effect-pool/grpc/GrpcPool")

/**
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * const id: GrpcPool.TypeId = GrpcPool.TypeId
 * ```
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A pool of channels to one target.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import { Context } from "effect"
 *
 * class Backend extends Context.Tag("Backend")<Backend, GrpcPool.GrpcPool>() {}
 * ```
 * @since 0.1.0
 * @category models
 */
export interface GrpcPool extends Pipeable {
  readonly [TypeId]: TypeId
  readonly name: string
  readonly target: string
}

/**
 * `Options.healthCheck`: core's `{ schedule, timeout }` (`Pool.HealthCheckTiming`) plus the
 * health service to ask. Defaults: service "" (the server as a whole), every 10 s, 5 s each.
 *
 * @example
 * ```ts
 * import type { GrpcPool } from "@effect-pool/grpc"
 * import { Schedule } from "effect"
 *
 * const health: GrpcPool.HealthCheck = { service: "orders.Orders", schedule: Schedule.spaced("10 seconds"), timeout: "2 seconds" }
 * ```
 * @since 0.2.0
 * @category models
 */
export interface HealthCheck extends Pool.HealthCheckTiming {
  /** The `grpc.health.v1` service name. [""] */
  readonly service?: string | undefined
}

/**
 * Options of `make`. Defaults in brackets.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import * as grpc from "@grpc/grpc-js"
 * import { Schedule } from "effect"
 *
 * const options: GrpcPool.Options = {
 *   target: "orders.internal:443",
 *   credentials: grpc.credentials.createSsl(),
 *   minChannels: 2,
 *   maxChannels: 8,
 *   maxConcurrentStreamsPerChannel: 100,
 *   maxAge: "1 hour",
 *   keepalive: { time: "1 minute", timeout: "10 seconds", permitWithoutCalls: true },
 *   healthCheck: { service: "orders.Orders", schedule: Schedule.spaced("10 seconds"), timeout: "2 seconds" }
 * }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `host:port` or a gRPC target URI (`dns:///…`). */
  readonly target: string
  /** A grpc-js `ChannelCredentials`: TLS (`credentials.createSsl`) or plaintext (`createInsecure`), said explicitly. [plaintext only for a loopback target; required otherwise] */
  readonly credentials?: grpc.ChannelCredentials | undefined
  /** Label of metrics, logs and errors. ["grpc"] */
  readonly name?: string | undefined
  /** Channels kept open even when idle. [1] */
  readonly minChannels?: number | undefined
  /** Most channels (connections) open at once — over more backends than this, each backend may still have one. [4] */
  readonly maxChannels?: number | undefined
  /** Calls one channel carries at once — the server's `max_concurrent_streams` (commonly 100). [100] */
  readonly maxConcurrentStreamsPerChannel?: number | undefined
  /** Open another channel once every channel carries this fraction of its streams. [0.8] */
  readonly targetUtilization?: number | undefined
  /** Refresh a channel after this long: it takes no new calls, drains its calls (none fails) and is replaced. [never] */
  readonly maxAge?: Duration.DurationInput | undefined
  /** Each channel's `maxAge` is shortened by a random fraction up to this, so they do not refresh together. [0.1] */
  readonly maxAgeJitter?: number | undefined
  /**
   * HTTP/2 keepalive pings. `time` [5 minutes] and `permitWithoutCalls` [false] never trigger a
   * default server's `too_many_pings` GOAWAY (its minimum is 5 minutes, without calls not at all);
   * to detect a silently dead idle connection sooner, lower `time` and set `permitWithoutCalls`
   * where the server allows it. A ping unanswered within `timeout` [20 seconds] drops the
   * connection: the channel is replaced.
   */
  readonly keepalive?: {
    readonly time?: Duration.DurationInput | undefined
    readonly timeout?: Duration.DurationInput | undefined
    readonly permitWithoutCalls?: boolean | undefined
  } | undefined
  /** grpc-js channel options, passed through (`grpc.use_local_subchannel_pool` is always 1). [{}] */
  readonly channelOptions?: grpc.ChannelOptions | undefined
  /**
   * `grpc.health.v1.Health/Check` for `service` [""] on `schedule` [every 10 s] on every channel,
   * and on every new channel before it is lent. A channel whose service answers other than
   * SERVING (NOT_SERVING, SERVICE_UNKNOWN) leaves rotation on its connection and comes back when a
   * check finds it SERVING; a check with no answer within `timeout` [5 s] (or failing otherwise)
   * replaces the channel. Core's `healthCheck` shape (`schedule`, `timeout`) plus `service`; the
   * check is the pool's. [off]
   */
  readonly healthCheck?: HealthCheck | undefined
  /** Channels beyond `minChannels` close after this long without calls. [10 minutes] */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Longest a new channel may take to become READY. [10 seconds] */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Longest a call waits for a channel (all busy, or — with `waitForReady` — none connected) before `PoolTimeoutError`. [30 seconds] */
  readonly acquireTimeout?: Duration.DurationInput | undefined
  /** On close, how long calls in flight get before their channels are closed. [10 seconds] */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /**
   * What a call does while the pool cannot connect. `false` is grpc's default, fail-fast: a call
   * waiting for a channel fails `UNAVAILABLE` as soon as a connection attempt fails (within
   * `connectTimeout` at the latest) while no channel is connected. `true` waits until a channel is
   * READY, up to `acquireTimeout` or the call's deadline. A call's own `waitForReady` overrides it.
   * Busy channels are never a reason to fail fast: a call waits for a free stream either way. [false]
   */
  readonly waitForReady?: boolean | undefined
  /**
   * How channels spread over the addresses the target resolves to (grpc-js's own resolver for
   * its scheme: `dns:`, `ipv4:`, `ipv6:`, `unix:`, or one registered with
   * `grpc.experimental.registerResolver`), named after grpc's service-config policies.
   * `"round_robin"`: every address is a backend with channels of its own, each call to the
   * least-loaded backend; the target is followed (backends that appear get channels, those that
   * go are drained: their calls finish). `"pick_first"`: one backend, the target as grpc-js
   * connects to it (its first address). ["round_robin"]
   */
  readonly loadBalancing?: "round_robin" | "pick_first" | undefined
  /** Channels each backend keeps at least: a backend keeps the larger of this and its round-robin share of the pool-wide `minChannels` (not their sum), within `maxChannels` in all. [0] */
  readonly minChannelsPerBackend?: number | undefined
  /** Most channels to one backend (each backend also gets at most `maxChannels` ÷ backends, at least 1). [maxChannels] */
  readonly maxChannelsPerBackend?: number | undefined
  /**
   * Ejection of failing backends, after grpc's xDS/service-config outlier detection (gRFC A50)
   * and Envoy's: `consecutiveFailures` [5] calls (or connection attempts) in a row ending with
   * one of `failureCodes` [[UNAVAILABLE]] eject a backend for `baseEjectionTime` [30 s] × its
   * ejection count, at most `maxEjectionTime` [300 s], never more than `maxEjectionPercent` [50]
   * % of the backends at once (so a lone backend is never ejected). Then it is picked again on
   * probation: a failure ejects it again for longer, a success clears it. With every backend
   * ejected, calls go to the one ejected longest ago. `false`: off. [on]
   */
  readonly outlierDetection?: OutlierDetection | false | undefined
}

/**
 * `Options.outlierDetection`. Defaults in brackets.
 *
 * @example
 * ```ts
 * import type { GrpcPool } from "@effect-pool/grpc"
 * import * as grpc from "@grpc/grpc-js"
 *
 * const outliers: GrpcPool.OutlierDetection = {
 *   consecutiveFailures: 3,
 *   baseEjectionTime: "10 seconds",
 *   maxEjectionTime: "2 minutes",
 *   maxEjectionPercent: 34,
 *   failureCodes: [grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED]
 * }
 * ```
 * @since 0.3.0
 * @category models
 */
export interface OutlierDetection {
  /** Calls in a row failing with one of `failureCodes` that eject the backend. [5] */
  readonly consecutiveFailures?: number | undefined
  /** First ejection's length; the n-th lasts n × this. [30 seconds] */
  readonly baseEjectionTime?: Duration.DurationInput | undefined
  /** Longest ejection. [300 seconds] */
  readonly maxEjectionTime?: Duration.DurationInput | undefined
  /** Most backends out at once, in % of the backends. [50] */
  readonly maxEjectionPercent?: number | undefined
  /** grpc status codes that count as a failure of the backend. [[UNAVAILABLE]] */
  readonly failureCodes?: ReadonlyArray<grpc.status> | undefined
}

/**
 * One backend (an address the target resolves to): its channels, calls in flight, calls waiting
 * for one of its channels (the pick counts them with the calls in flight), whether outlier
 * detection has ejected it (until when: ms on the pool's `Clock`, since the epoch with the
 * default one), its consecutive failures, and whether it is draining (resolved no more: no new
 * calls, closing once its calls end).
 *
 * @example
 * ```ts
 * import type { GrpcPool } from "@effect-pool/grpc"
 *
 * const line = (b: GrpcPool.BackendStats) => `${b.address}: ${b.channels} channels, ${b.activeCalls} calls, ${b.waitingCalls} waiting${b.ejected ? " (ejected)" : ""}`
 * ```
 * @since 0.3.0
 * @category models
 */
export type BackendStats = Backends.BackendStats

/**
 * Options of one call: `metadata`, a `deadline` or a `timeout` (DEADLINE_EXCEEDED past it, also
 * while waiting for a channel), `onMetadata`/`onStatus`, and `waitForReady` (wait for a
 * connection rather than fail fast with UNAVAILABLE; the pool's option by default).
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * const options: GrpcPool.CallOptions = { metadata: { "x-request-id": "42" }, timeout: "500 millis" }
 * // wait for the server to come up, for 30 s at most
 * const patient: GrpcPool.CallOptions = { waitForReady: true, timeout: "30 seconds" }
 * ```
 * @since 0.1.0
 * @category models
 */
export type CallOptions = internal.CallOptions

/**
 * What a call fails with: the call's `GrpcError`, or the pool's (`PoolTimeoutError` when no
 * channel could be had in time — its cause says why —, `PoolClosedError`).
 *
 * @example
 * ```ts
 * import type { GrpcPool } from "@effect-pool/grpc"
 *
 * const tags: Array<GrpcPool.CallError["_tag"]> = ["GrpcError", "PoolTimeoutError", "PoolClosedError", "PoolQueueFullError"]
 * ```
 * @since 0.1.0
 * @category models
 */
export type CallError = GrpcError | Pool.BorrowError

/**
 * A unary method of an Effect client.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * interface Api { readonly getUser: GrpcPool.Unary<{ id: string }, { name: string }> }
 * ```
 * @since 0.1.0
 * @category client
 */
export type Unary<I, O> = (request: I, options?: CallOptions) => Effect.Effect<O, CallError>

/**
 * A server-streaming method: the responses as a `Stream` (pulled with back-pressure; ending the
 * stream early cancels the call).
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * interface Api { readonly listUsers: GrpcPool.ServerStreaming<{ page: number }, { name: string }> }
 * ```
 * @since 0.1.0
 * @category client
 */
export type ServerStreaming<I, O> = (request: I, options?: CallOptions) => Stream.Stream<O, CallError>

/**
 * A client-streaming method: the requests from a `Stream` (written with back-pressure), one response.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * interface Api { readonly upload: GrpcPool.ClientStreaming<{ chunk: Uint8Array }, { size: number }> }
 * ```
 * @since 0.1.0
 * @category client
 */
export type ClientStreaming<I, O> = (requests: Stream.Stream<I, CallError>, options?: CallOptions) => Effect.Effect<O, CallError>

/**
 * A bidirectional-streaming method.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * interface Api { readonly chat: GrpcPool.Bidi<{ text: string }, { text: string }> }
 * ```
 * @since 0.1.0
 * @category client
 */
export type Bidi<I, O> = (requests: Stream.Stream<I, CallError>, options?: CallOptions) => Stream.Stream<O, CallError>

/**
 * Per channel: connectivity state, calls in flight, age, and whether its last health check was
 * answered other than SERVING (then it is out of rotation until a check finds it SERVING).
 *
 * @example
 * ```ts
 * import type { GrpcPool } from "@effect-pool/grpc"
 *
 * const line = (c: GrpcPool.ChannelStats) => `${c.state} ${c.activeCalls} calls, ${Math.round(c.ageMillis / 1000)} s old`
 * ```
 * @since 0.1.0
 * @category models
 */
export interface ChannelStats {
  readonly state: "IDLE" | "CONNECTING" | "READY" | "TRANSIENT_FAILURE" | "SHUTDOWN"
  readonly activeCalls: number
  readonly ageMillis: number
  readonly notServing: boolean
}

/**
 * Pool totals (the core's stats: channels as items, calls as borrows), per-channel stats, and
 * calls sent again after failing before they reached the server.
 *
 * @example
 * ```ts
 * import type { GrpcPool } from "@effect-pool/grpc"
 *
 * const line = (s: GrpcPool.Stats) => `${s.pool.size} channels, ${s.pool.borrowed} calls, ${s.pool.waiting} waiting`
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Stats extends Pool.PoolStats {
  /** The core pool's stats (channels as items); also spread at the top level, like every kind's. */
  readonly pool: Pool.PoolStats
  readonly channels: ReadonlyArray<ChannelStats>
  /** Per backend, in the resolver's order (draining ones last). */
  readonly backends: ReadonlyArray<BackendStats>
  readonly retries: number
}

class GrpcPoolImpl implements GrpcPool {
  readonly [TypeId]: TypeId = TypeId
  constructor(readonly impl: internal.GrpcPoolImpl) {}
  get name(): string {
    return this.impl.name
  }
  get target(): string {
    return this.impl.target
  }
  pipe() {
    return pipeArguments(this, arguments)
  }
}

const implOf = (self: GrpcPool): internal.GrpcPoolImpl => (self as GrpcPoolImpl).impl

/**
 * Opens a pool in the current scope (it returns once the `minChannels` are READY, or after
 * `connectTimeout`; a call waiting for a channel fails fast with UNAVAILABLE while the pool cannot
 * connect, or waits up to `acquireTimeout` with `waitForReady`). Closing the scope lets calls in flight finish up to
 * `shutdownTimeout`, then closes every channel. Bad options fail with `PoolConfigError`.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const pool = yield* GrpcPool.make({ target: "127.0.0.1:50051", minChannels: 2, maxChannels: 8 })
 *   return yield* GrpcPool.stats(pool)
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<GrpcPool, PoolConfigError, Scope.Scope> =>
  Effect.map(internal.make(options), (impl) => new GrpcPoolImpl(impl))

/**
 * A `Layer` providing a pool under `tag`.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import { Context } from "effect"
 *
 * class Orders extends Context.Tag("Orders")<Orders, GrpcPool.GrpcPool>() {}
 * const OrdersLive = GrpcPool.layer(Orders, { target: "orders.internal:50051", maxChannels: 4 })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = <Id>(tag: Context.Tag<Id, GrpcPool>, options: Options): Layer.Layer<Id, PoolConfigError> =>
  Layer.scoped(tag, make(options))

/**
 * The options `layerConfig` reads from `Config`.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 *
 * const settings: GrpcPool.ConfigOptions = { target: "orders.internal:50051", maxChannels: 4 }
 * ```
 * @since 0.1.0
 * @category models
 */
export type ConfigOptions = Pick<
  Options,
  | "target"
  | "name"
  | "minChannels"
  | "maxChannels"
  | "maxConcurrentStreamsPerChannel"
  | "targetUtilization"
  | "maxAge"
  | "idleTimeout"
  | "connectTimeout"
  | "acquireTimeout"
  | "shutdownTimeout"
  | "waitForReady"
>

/**
 * `layer` with its settings read from `Config`; credentials, keepalive, health checks and channel
 * options are given in code.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import { Config, Context } from "effect"
 *
 * class Orders extends Context.Tag("Orders")<Orders, GrpcPool.GrpcPool>() {}
 * const OrdersLive = GrpcPool.layerConfig(Orders, {
 *   target: Config.string("ORDERS_TARGET"),
 *   maxChannels: Config.integer("ORDERS_CHANNELS").pipe(Config.withDefault(4))
 * })
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <Id>(
  tag: Context.Tag<Id, GrpcPool>,
  config: Config.Config.Wrap<ConfigOptions>,
  options?: Omit<Options, keyof ConfigOptions> | undefined
): Layer.Layer<Id, ConfigError.ConfigError | PoolConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (settings) => layer(tag, { ...options, ...settings })))

/**
 * An Effect client for a service: its methods under their own names (as the constructor's
 * prototype has them, both `SayHello` and `sayHello`). Unary and client-streaming methods return
 * an `Effect`, server-streaming and bidi ones a `Stream`. Interrupting a call cancels it (the
 * server sees CANCELLED). Describe the service's shape with `Unary`/`ServerStreaming`/
 * `ClientStreaming`/`Bidi` for typed methods.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import * as grpc from "@grpc/grpc-js"
 * import { Effect, Stream } from "effect"
 *
 * declare const pool: GrpcPool.GrpcPool
 * declare const Chat: grpc.ServiceClientConstructor
 * interface ChatApi {
 *   readonly send: GrpcPool.Unary<{ text: string }, { id: string }>
 *   readonly history: GrpcPool.ServerStreaming<{ room: string }, { text: string }>
 *   readonly talk: GrpcPool.Bidi<{ text: string }, { text: string }>
 * }
 * const chat = GrpcPool.client<ChatApi>(pool, Chat)
 * const lines = Stream.runCollect(chat.history({ room: "general" }, { metadata: { "x-user": "ada" } }))
 * const sent = chat.send({ text: "hi" }).pipe(Effect.timeout("1 second"))
 * ```
 * @since 0.1.0
 * @category client
 */
export const client = <Api = Record<string, any>>(self: GrpcPool, clientConstructor: grpc.ServiceClientConstructor): Api =>
  clientOf(implOf(self), clientConstructor) as Api

/**
 * Lends a channel for a scope, for users who keep their own generated clients
 * (`new Client(target, credentials, { channelOverride })`). Calls made on it count toward its
 * load only while the scope is open. It waits for a channel as the pool's calls do by default
 * (fail-fast UNAVAILABLE while the pool cannot connect, unless the pool has `waitForReady`).
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import * as grpc from "@grpc/grpc-js"
 * import { Effect } from "effect"
 *
 * declare const pool: GrpcPool.GrpcPool
 * declare const Greeter: grpc.ServiceClientConstructor
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const channel = yield* GrpcPool.channel(pool)
 *   const greeter = new Greeter(pool.target, grpc.credentials.createInsecure(), { channelOverride: channel })
 *   return greeter
 * }))
 * ```
 * @since 0.1.0
 * @category client
 */
export const channel = (self: GrpcPool): Effect.Effect<grpc.Channel, CallError, Scope.Scope> =>
  Effect.map(implOf(self).borrow, (pooled) => pooled.channel)

/**
 * A snapshot: pool totals, each channel's state, calls and age.
 *
 * @example
 * ```ts
 * import { GrpcPool } from "@effect-pool/grpc"
 * import { Effect } from "effect"
 *
 * declare const pool: GrpcPool.GrpcPool
 * const report = Effect.flatMap(GrpcPool.stats(pool), (s) => Effect.log(s.channels.map((c) => `${c.state}:${c.activeCalls}`).join(" ")))
 * ```
 * @since 0.1.0
 * @category observability
 */
export const stats = (self: GrpcPool): Effect.Effect<Stats> => {
  const impl = implOf(self)
  return Effect.map(Effect.forEach(impl.pools, Pool.stats), (all) => {
    const pool = sum(impl.name, all)
    return {
      ...pool,
      pool,
      channels: impl.channels.map(channelStats),
      backends: impl.backendStats(),
      retries: impl.retries
    }
  })
}

/** The backends' core stats as one pool's: counts added up, closed when all are. */
const sum = (name: string, all: ReadonlyArray<Pool.PoolStats>): Pool.PoolStats => {
  if (all.length === 1) return { ...all[0]!, name }
  const total: Record<string, unknown> = { ...all[0], name, closed: all.every((s) => s.closed) }
  for (const key of Object.keys(total)) {
    if (typeof total[key] !== "number") continue
    total[key] = all.reduce((n, s) => n + ((s as unknown as Record<string, number>)[key] ?? 0), 0)
  }
  return total as unknown as Pool.PoolStats
}
