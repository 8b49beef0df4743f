/**
 * The gRPC pool's Effect shell: a core `Pool` of channels (one item = one channel with its own
 * connection, `concurrency` = streams per channel, least-loaded pick by the core), channels that
 * lose their connection replaced, and the wait for a channel with grpc's fail-fast /
 * `waitForReady` semantics. The calls are in unary.ts and streams.ts, the client in client.ts,
 * the options in options.ts, health checks in health.ts; one channel (connect, watch, close) and
 * its stats are the engine's (`@effect-pool/engine/grpc/channel`, `/grpc/stats`).
 *
 * @internal
 */
import { OptionCheck, Pool, type PoolConfigError, PoolClosedError } from "@effect-pool/core"
import * as Backends from "@effect-pool/engine/grpc/backends"
import { backendChannelOptions, type TargetWatch, watchTarget } from "@effect-pool/engine/grpc/resolve"
import * as grpc from "@grpc/grpc-js"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { GrpcError } from "../GrpcError.js"
import { type CallOptions, invalidArgument, noCallOptions, type ParsedCall, parseCallOptions } from "./callOptions.js"
import { PooledChannel } from "@effect-pool/engine/grpc/channel"
import { type CallError, deadlineExceeded, unavailable } from "./errors.js"
import { checkHealth, isNotServing } from "./health.js"
import { type PoolOptions, parseOptions } from "./options.js"

export type { CallOptions } from "./callOptions.js"
export type { CallError } from "./errors.js"

/**
 * One backend: a core `Pool` of channels to one address the target resolves to (or, with
 * `pick_first` or a target no resolver takes, to the target itself, as before several backends).
 */
export class Backend {
  pool!: Pool.Pool<PooledChannel, GrpcError>
  scope!: Scope.CloseableScope
  readonly channels = new Set<PooledChannel>()

  constructor(
    readonly owner: GrpcPoolImpl,
    /** The resolved address (`host:port`), or the target itself. */
    readonly address: string,
    /** The target its channels are opened on (`ipv4:host:port`, …, or the target itself). */
    readonly target: string,
    readonly channelOptions: grpc.ChannelOptions
  ) {}

  private get connectTimeout(): number {
    return this.owner.connectTimeout
  }
  private get healthService(): string | undefined {
    return this.owner.healthService
  }
  private get healthTimeout(): number {
    return this.owner.healthTimeout
  }
  private get waitForReady(): boolean {
    return this.owner.waitForReady
  }

  /** Its load now, for the pick: channels in rotation and the calls on them. */
  load(): Backends.Load {
    let channels = 0
    let activeCalls = 0
    for (const pooled of this.channels) {
      if (pooled.lost || pooled.closed) continue
      channels++
      activeCalls += pooled.item?.borrowers ?? 0
    }
    return { channels, activeCalls }
  }

  /** Channels being connected now. */
  private connecting = 0
  /** Why the last connection attempt failed; cleared by the next that succeeds. */
  private failure: GrpcError | undefined = undefined
  /** Fail-fast calls waiting for a channel: each fails UNAVAILABLE when the pool cannot connect. */
  private readonly failFast = new Set<(error: GrpcError) => void>()

  /** A channel in rotation or able to come back (connected, not lost): a wait for it is not fail-fast's business. */
  private hasConnection(): boolean {
    for (const pooled of this.channels) if (!pooled.lost && !pooled.closed) return true
    return false
  }

  /** A connection attempt failed: fail-fast calls waiting fail with it, unless a connection is up. */
  private connectionFailed(reason: string): void {
    this.owner.connectionFailed(this)
    const error = unavailable(this.owner.target, reason)
    this.failure = error
    if (this.failFast.size === 0 || this.hasConnection()) return
    for (const fail of [...this.failFast]) fail(error)
  }

  /**
   * Borrows a channel for one call, with grpc's semantics of a call waiting for a connection:
   * fail-fast (UNAVAILABLE once a connection attempt fails while no channel is connected — at
   * once if the pool is failing to connect right now), or with `waitForReady` until a channel
   * is READY; either way DEADLINE_EXCEEDED once the call's deadline passes, and the pool's
   * `acquireTimeout`. `done` is called once (synchronously when a channel is free); the
   * `Borrow` returned is the call's: `cancel()` gives up a wait still going. The deadline and
   * fail-fast end the wait through `borrow.abort`.
   */
  lend(options: ParsedCall, done: (lease: Pool.Borrow<PooledChannel> | undefined, failure: Cause.Cause<CallError> | undefined) => void): Pool.Borrow<PooledChannel> {
    let timer: ReturnType<typeof setTimeout> | undefined
    let listed = false
    const giveUp = (error: GrpcError) => borrow.abort(Cause.fail(error))
    const borrow = Pool.unsafeBorrow(this.pool, (lease, failure) => {
      // lent, failed, or given up (abort): the wait's timer and fail-fast listing end with it
      if (timer !== undefined) clearTimeout(timer)
      if (listed) this.failFast.delete(giveUp)
      done(lease, failure as Cause.Cause<CallError> | undefined)
    })
    if (borrow.state !== "waiting") return borrow // lent at once: the fast path
    if (!(options.waitForReady ?? this.waitForReady)) {
      // grpc's fail-fast: a channel in TRANSIENT_FAILURE fails a call at once; here, a pool whose
      // last attempt failed, that is trying again, and has no connection up
      if (this.failure !== undefined && this.connecting > 0 && !this.hasConnection()) {
        // on the next turn of the event loop, as grpc-js reports it: a caller retrying in a loop
        // without a pause must not starve the I/O that would let the pool connect again (a
        // channel lent meanwhile is the call's; a cancel meanwhile drops the failure)
        const failure = this.failure
        setImmediate(() => giveUp(failure))
        return borrow
      }
      this.failFast.add(giveUp)
      listed = true
    }
    if (options.deadline !== Infinity) {
      const at = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline
      const arm = () => {
        const left = at - Date.now()
        if (left > OptionCheck.MAX_TIMER_MILLIS) timer = setTimeout(arm, OptionCheck.MAX_TIMER_MILLIS)
        else timer = setTimeout(() => giveUp(deadlineExceeded()), Math.max(0, left))
      }
      arm()
    }
    return borrow
  }

  /** Opens one channel, waits for READY (and SERVING, with a health check): the core pool's `acquire`. */
  readonly acquire = (item: Pool.ItemHandle): Effect.Effect<PooledChannel, GrpcError, Scope.Scope> => {
    const connected = Effect.tap(this.connect, (pooled) =>
      Effect.sync(() => {
        pooled.item = item
        pooled.backend = this
        // a channel that leaves READY is out of rotation now if idle, when its calls end otherwise;
        // the target is resolved again (a server gone may have moved)
        pooled.onLost = () => {
          item.invalidate()
          this.owner.refresh()
        }
      }))
    return this.healthService === undefined
      ? connected
      : Effect.tap(connected, (pooled) => checkHealth(pooled, this.healthService!, this.healthTimeout))
  }

  private readonly connect: Effect.Effect<PooledChannel, GrpcError, Scope.Scope> = Effect.acquireRelease(
    // interruptible while it connects (acquireRelease's acquire is not): a pool closing while a
    // channel connects to a server that is down closes it now instead of awaiting connectTimeout
    Effect.interruptible(Effect.async<PooledChannel, GrpcError>((resume) => {
      const pooled = new PooledChannel({ target: this.target, credentials: this.owner.credentials, options: this.channelOptions })
      let connecting = true
      const settle = () => {
        if (connecting) this.connecting--
        connecting = false
      }
      this.connecting++
      pooled.connect(this.connectTimeout, () => this.connectionFailed("connection failed (TRANSIENT_FAILURE)"), (failure) => {
        settle()
        if (failure !== undefined) {
          pooled.close()
          this.connectionFailed(failure)
          return resume(Effect.fail(new GrpcError({
            code: grpc.status.UNAVAILABLE,
            details: `${this.describe}: ${failure}`,
            metadata: undefined,
            message: `UNAVAILABLE: could not connect to ${this.describe}: ${failure}`
          })))
        }
        this.failure = undefined
        this.owner.connected(this)
        this.channels.add(pooled)
        resume(Effect.succeed(pooled))
      })
      return Effect.sync(() => {
        settle()
        pooled.close()
      })
    })),
    (pooled) =>
      Effect.sync(() => {
        this.channels.delete(pooled)
        pooled.close()
      })
  )

  /** The target and, when it is one address of several, which. */
  get describe(): string {
    return this.target === this.owner.target ? this.owner.target : `${this.owner.target} (backend ${this.address})`
  }
}

/** What every backend's core pool is made with (besides its acquire, name, min and max). */
export type CorePoolOptions = Omit<Pool.Options<PooledChannel, GrpcError, never>, "acquire" | "name" | "min" | "max">

const backendGauges = {
  channels: Metric.gauge("effect_pool_grpc_backend_channels", { description: "channels open to the backend" }),
  activeCalls: Metric.gauge("effect_pool_grpc_backend_active_calls", { description: "calls in flight on the backend" }),
  ejected: Metric.gauge("effect_pool_grpc_backend_ejected", { description: "1 while the backend is ejected by outlier detection" }),
  consecutiveFailures: Metric.gauge("effect_pool_grpc_backend_consecutive_failures", { description: "calls in a row that failed on the backend" })
}
const ejections = Metric.counter("effect_pool_grpc_backend_ejections_total", { description: "backends ejected by outlier detection" })

/**
 * The pool: its backends (one per address the target resolves to, followed through
 * re-resolution), the pick of a backend for each call (the engine's `BackendSet`: least loaded,
 * ejected and draining ones left out), and what all backends share.
 */
export class GrpcPoolImpl {
  /** Calls sent again on another channel after failing before reaching the server. */
  retries = 0
  /** The only backend, when there is one: calls skip the pick. */
  single: Backend | undefined = undefined
  /** The backends in rotation or ejected, by address. */
  readonly live = new Map<string, Backend>()
  /** Backends no longer resolved, closing once their calls end. */
  readonly draining = new Set<Backend>()
  set: Backends.BackendSet
  closed = false
  runtime!: Runtime.Runtime<never>
  scope!: Scope.Scope
  watch: TargetWatch | undefined = undefined
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  /** Called once by the first resolution (or its failure). */
  firstResolution: (() => void) | undefined = undefined

  constructor(
    readonly name: string,
    readonly target: string,
    readonly credentials: grpc.ChannelCredentials,
    readonly channelOptions: grpc.ChannelOptions,
    readonly connectTimeout: number,
    /** With a health check: the service a new channel must find SERVING before it is lent. */
    readonly healthService: string | undefined,
    /** How long a health check waits for its answer (ms). */
    readonly healthTimeout: number,
    /** Calls wait for a connection by default (grpc's `waitForReady`) instead of failing fast. */
    readonly waitForReady: boolean,
    readonly backendOptions: Backends.BackendOptions,
    readonly core: CorePoolOptions
  ) {
    this.set = Backends.make(backendOptions)
  }

  /** Every channel open, of every backend. */
  get channels(): ReadonlyArray<PooledChannel> {
    const all: Array<PooledChannel> = []
    for (const backend of this.live.values()) all.push(...backend.channels)
    for (const backend of this.draining) all.push(...backend.channels)
    return all
  }

  /** Every backend's core pool. */
  get pools(): ReadonlyArray<Pool.Pool<PooledChannel, GrpcError>> {
    return [...this.live.values(), ...this.draining].map((b) => b.pool)
  }

  private readonly load = (address: string): Backends.Load => this.live.get(address)?.load() ?? { channels: 0, activeCalls: 0 }

  /** Per-backend stats (the engine's shape), metrics refreshed. */
  backendStats(): ReadonlyArray<Backends.BackendStats> {
    const stats = Backends.backendStats(this.set, (address) => {
      const live = this.live.get(address)
      if (live !== undefined) return live.load()
      for (const b of this.draining) if (b.address === address) return b.load()
      return { channels: 0, activeCalls: 0 }
    })
    for (const s of stats) {
      const tags = [MetricLabel.make("pool", this.name), MetricLabel.make("backend", s.address)]
      backendGauges.channels.unsafeUpdate(s.channels, tags)
      backendGauges.activeCalls.unsafeUpdate(s.activeCalls, tags)
      backendGauges.ejected.unsafeUpdate(s.ejected ? 1 : 0, tags)
      backendGauges.consecutiveFailures.unsafeUpdate(s.consecutiveFailures, tags)
    }
    return stats
  }

  /** Asks the resolver again (a channel was lost, a connection failed). */
  refresh(): void {
    this.watch?.refresh()
  }

  /** A connection attempt to `backend` failed: counts as a failed call for its ejection. */
  connectionFailed(backend: Backend): void {
    this.ended(backend, grpc.status.UNAVAILABLE)
    this.refresh()
  }

  /** A channel to `backend` is READY: a success for it. */
  connected(backend: Backend): void {
    this.ended(backend, grpc.status.OK)
  }

  /** A call on `pooled` ended with `code`: outlier detection counts it. */
  callEnded(pooled: PooledChannel, code: number): void {
    if (this.single !== undefined || this.backendOptions.outlierDetection === undefined) return
    const backend = pooled.backend as Backend | undefined
    if (backend !== undefined) this.ended(backend, code)
  }

  private ended(backend: Backend, code: number): void {
    if (this.closed || this.backendOptions.outlierDetection === undefined || this.live.size < 2) return
    if (this.live.get(backend.address) !== backend) return
    this.run(Backends.callEnded(this.set, backend.address, code, Date.now()))
  }

  private run(step: Backends.Step): void {
    this.set = step.state
    for (const command of step.commands) {
      if (command._tag === "Eject") {
        ejections.unsafeUpdate(1, [MetricLabel.make("pool", this.name), MetricLabel.make("backend", command.address)])
        this.arm()
      }
    }
  }

  /** A timer for the next end of an ejection. */
  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const next = Backends.nextTick(this.set)
    if (next === undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.run(Backends.tick(this.set, Date.now()))
      this.arm()
    }, Math.min(OptionCheck.MAX_TIMER_MILLIS, Math.max(0, next - Date.now())))
  }

  /** A resolution came in: backends opened, drained, undrained. */
  resolved(addresses: ReadonlyArray<string>): void {
    if (this.closed) return
    const step = Backends.resolved(this.set, addresses)
    this.set = step.state
    for (const command of step.commands) {
      if (command._tag === "Open" || (command._tag === "Undrain" && !this.live.has(command.address))) this.open(command.address, Backends.addressTarget(command.address))
      else if (command._tag === "Drain") this.drain(command.address)
    }
    this.single = this.live.size === 1 ? this.live.values().next().value : undefined
    this.resolvedOnce()
  }

  /** The first resolution is in (or failed): `make` goes on. */
  resolvedOnce(): void {
    const first = this.firstResolution
    this.firstResolution = undefined
    first?.()
  }

  /** Opens a backend: its core pool, in a scope of its own under the pool's. */
  open(address: string, target: string): void {
    const options = target === this.target ? this.channelOptions : backendChannelOptions(this.target, this.channelOptions)
    const backend = new Backend(this, address, target, options)
    const o = this.backendOptions
    // at least one channel per backend while the pool keeps any (minChannels ≥ 1): the pick sends
    // calls to backends with a channel, so one without would never get any
    const min = Math.min(o.maxChannelsPerBackend, Math.max(Backends.minimums(this.set).get(address) ?? o.minChannels, o.minChannels > 0 ? 1 : 0))
    const liveCount = Math.max(1, this.set.backends.filter((b) => !b.draining).length)
    const max = Math.max(min, Math.min(o.maxChannelsPerBackend, Math.max(1, Math.floor(o.maxChannels / liveCount))))
    // the core pool's name is its metrics' `pool` attribute: a target that resolves to one address
    // keeps the pool's own (dashboards of a one-server pool unchanged); of several, `name/address`
    const name = target === this.target || liveCount === 1 ? this.name : `${this.name}/${address}`
    Runtime.runSync(this.runtime)(Effect.gen(this, function*() {
      const scope = yield* Scope.fork(this.scope, ExecutionStrategy.sequential)
      backend.scope = scope
      backend.pool = yield* Scope.extend(Pool.make({ ...this.core, acquire: backend.acquire, name, min, max }), scope)
    }))
    this.live.set(address, backend)
  }

  /** No new calls to the backend at `address`: its pool closes (calls on it finish first, up to shutdownTimeout). */
  private drain(address: string): void {
    const backend = this.live.get(address)
    if (backend === undefined) return
    this.live.delete(address)
    this.draining.add(backend)
    Runtime.runFork(this.runtime)(Effect.ensuring(
      Scope.close(backend.scope, Exit.void),
      Effect.sync(() => {
        this.draining.delete(backend)
        this.set = Backends.removed(this.set, address)
      })
    ))
  }

  /** Stops following the target (the pool is closing). */
  close(): void {
    this.closed = true
    this.watch?.close()
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.resolvedOnce()
  }

  /** The backend for a call: the engine's pick, or the least loaded not yet tried. */
  private choose(tried: ReadonlySet<Backend> | undefined): Backend | undefined {
    const picked = Backends.pick(this.set, tried === undefined ? this.load : (address) => {
      const backend = this.live.get(address)
      return backend === undefined || tried.has(backend) ? { channels: 1, activeCalls: Infinity } : backend.load()
    })
    this.set = picked.state
    const backend = picked.address === undefined ? undefined : this.live.get(picked.address)
    if (backend !== undefined && tried?.has(backend) !== true) return backend
    for (const other of this.live.values()) if (tried?.has(other) !== true) return other
    return undefined
  }

  /**
   * Borrows a channel for one call (see `Backend.lend`) on the backend the pick chooses. A
   * wait that fails because its backend cannot connect (fail-fast UNAVAILABLE) or was drained
   * (its pool closed) moves to another backend not tried yet: a server gone costs no call.
   */
  lend(options: ParsedCall, done: (lease: Pool.Borrow<PooledChannel> | undefined, failure: Cause.Cause<CallError> | undefined) => void): Pool.Borrow<PooledChannel> {
    const single = this.single
    if (single !== undefined) return single.lend(options, done)
    const tried = new Set<Backend>()
    let current: Pool.Borrow<PooledChannel> | undefined
    let generation = 0
    const proxy = {
      get state() {
        return current!.state
      },
      get value() {
        return current!.value
      },
      get handle() {
        return current!.handle
      },
      return: (exit?: Exit.Exit<unknown, unknown>) => current!.return(exit as never),
      cancel: () => current!.cancel(),
      abort: (cause: Cause.Cause<unknown>) => current!.abort(cause as never),
      invalidate: () => current!.invalidate(),
      retry: () => current!.retry()
    } as unknown as Pool.Borrow<PooledChannel>
    const attempt = (): void => {
      const backend = this.choose(tried.size === 0 ? undefined : tried)
      if (backend === undefined) {
        // only once closed (a resolution never empties the set)
        done(undefined, Cause.fail(new PoolClosedError({ pool: this.name })))
        return
      }
      tried.add(backend)
      const g = ++generation
      const borrow = backend.lend(options, (lease, failure) => {
        if (lease === undefined && failure !== undefined && !this.closed && this.movable(failure) && tried.size < this.live.size) attempt()
        else done(lease, failure)
      })
      if (g === generation) current = borrow
    }
    attempt()
    return proxy
  }

  /** A wait's failure another backend may not have: its backend cannot connect, or closed (drained). */
  private movable(failure: Cause.Cause<CallError>): boolean {
    const error = Cause.failureOption(failure)
    if (error._tag === "None") return false
    const e = error.value
    return e._tag === "PoolClosedError" || (e._tag === "GrpcError" && e.code === grpc.status.UNAVAILABLE)
  }

  /** The pool's channels compress (`grpc.default_compression_algorithm` other than identity). */
  private get compresses(): boolean {
    const algorithm: unknown = this.channelOptions["grpc.default_compression_algorithm"]
    return algorithm !== undefined && algorithm !== 0 && algorithm !== "identity"
  }

  /** A call's options, checked, also against the pool (`compress: true` needs channels that compress). */
  parse(input: CallOptions | undefined): Either.Either<ParsedCall, GrpcError> {
    const parsed = parseCallOptions(input)
    if (parsed._tag === "Right" && parsed.right.compress === true && !this.compresses) {
      return Either.left(invalidArgument("compress", "the pool's channels do not compress: set channelOptions[\"grpc.default_compression_algorithm\"] (grpc-js compresses per channel)"))
    }
    return parsed
  }

  /** Borrows a channel for a scope (streams, `channel`), waiting for it as `lend` does. */
  borrowFor(options: ParsedCall): Effect.Effect<PooledChannel, CallError, Scope.Scope> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        restore(Effect.async<Pool.Borrow<PooledChannel>, CallError>((resume) => {
          const borrow = this.lend(options, (lease, failure) => {
            if (lease === undefined) return resume(Effect.failCause(failure!))
            resume(Effect.succeed(lease))
          })
          // stops a wait; a channel lent as the fiber was interrupted is given back here
          return Effect.sync(() => borrow.cancel())
        })),
        (lease) => Effect.as(Effect.addFinalizer(() => Effect.sync(() => lease.return())), lease.value)
      )
    )
  }

  /** `GrpcPool.channel`: a channel for a scope, waiting for it as the pool's calls do by default. */
  readonly borrow: Effect.Effect<PooledChannel, CallError, Scope.Scope> = Effect.suspend(() => this.borrowFor(noCallOptions))


}

/** `GrpcPool.make`. */
export const make = (options: PoolOptions): Effect.Effect<GrpcPoolImpl, PoolConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const o = yield* parseOptions(options)
    const impl = new GrpcPoolImpl(
      o.name,
      o.target,
      o.credentials,
      {
        // keepalive: grpc-js arms setTimeout with these — past the timer limit a ping would go
        // out at once, so "never" is grpc-js's -1 (no pings) and a timeout is capped at the limit
        "grpc.keepalive_time_ms": OptionCheck.timerMillis(o.keepaliveTime) ?? -1,
        "grpc.keepalive_timeout_ms": OptionCheck.timerMillis(o.keepaliveTimeout) ?? OptionCheck.MAX_TIMER_MILLIS,
        "grpc.keepalive_permit_without_calls": o.permitWithoutCalls ? 1 : 0,
        ...o.channelOptions,
        // what makes a channel pool pool anything: a connection per channel
        "grpc.use_local_subchannel_pool": 1
      },
      OptionCheck.timerMillis(o.connectTimeout) ?? Infinity,
      o.healthService,
      o.healthTimeout,
      o.waitForReady,
      o.backends,
      {
        concurrency: o.streams,
        targetUtilization: o.targetUtilization,
        maxLifetime: o.maxAge,
        maxLifetimeJitter: o.maxAgeJitter,
        idleTimeout: o.idleTimeout,
        acquireTimeout: o.acquireTimeout,
        createTimeout: Infinity, // connectTimeout bounds a connection, with a GrpcError
        shutdownTimeout: o.shutdownTimeout,
        healthCheck: o.healthService === undefined ? undefined : {
          check: (pooled) => checkHealth(pooled, o.healthService!, o.healthTimeout),
          schedule: o.healthSchedule ?? Schedule.spaced("10 seconds"),
          timeout: o.healthTimeout,
          // NOT_SERVING is the service's word, not a broken connection: the channel stays
          // connected, out of rotation, until a check finds it SERVING (as grpc's own health-checking
          // clients do); a check that fails otherwise (no answer, UNAVAILABLE) replaces the channel
          onFailure: (error) => (isNotServing(error) ? "suspend" : "evict")
        }
      }
    )
    impl.runtime = yield* Effect.runtime<never>()
    impl.scope = yield* Effect.scope
    yield* Effect.addFinalizer(() => Effect.sync(() => impl.close()))
    const whole = () => {
      // pick_first, or a target no resolver of grpc-js takes: one backend, the target itself
      impl.set = Backends.resolved(impl.set, [o.target]).state
      impl.open(o.target, o.target)
      impl.single = impl.live.get(o.target)
    }
    if (o.backends.loadBalancing === "pick_first") whole()
    else {
      // the first resolution before anything opens (up to connectTimeout); none: the whole target
      yield* Effect.async<void>((resume) => {
        let waiting = true
        const go = () => {
          if (!waiting) return
          waiting = false
          resume(Effect.void)
        }
        impl.firstResolution = go
        impl.watch = watchTarget(o.target, impl.channelOptions, (addresses) => impl.resolved(addresses), () => {
          // a resolution error keeps the backends there are; the first one makes the pool whole-target
          impl.resolvedOnce()
        })
        if (impl.watch === undefined) go()
        const timer = setTimeout(go, Math.min(o.connectTimeout, OptionCheck.MAX_TIMER_MILLIS))
        return Effect.sync(() => clearTimeout(timer))
      }).pipe(Effect.ensuring(Effect.sync(() => {
        impl.firstResolution = undefined
      })))
      if (impl.live.size === 0) {
        impl.watch?.close()
        impl.watch = undefined
        whole()
      }
    }
    // the minChannels connect before make returns (up to connectTimeout; a server that is down
    // does not fail make — calls wait for it as before): a burst right after make spreads over
    // them instead of riding the first channel that became ready
    yield* Effect.forEach(impl.pools, (pool) => Pool.awaitMin(pool), { concurrency: "unbounded", discard: true }).pipe(
      Effect.timeout(o.connectTimeout === Infinity ? OptionCheck.MAX_TIMER_MILLIS : o.connectTimeout),
      Effect.ignore
    )
    return impl
  })
