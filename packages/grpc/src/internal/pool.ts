/**
 * The gRPC pool's Effect shell: a core `Pool` of channels (one item = one channel with its own
 * connection, `concurrency` = streams per channel, least-loaded pick by the core), channels that
 * lose their connection replaced, and the wait for a channel with grpc's fail-fast /
 * `waitForReady` semantics. The calls are in unary.ts and streams.ts, the client in client.ts,
 * the options in options.ts, health checks in health.ts; one channel (connect, watch, close) and
 * its stats are the engine's (`@effect-pool/engine/grpc/channel`, `/grpc/stats`), as are the
 * router over the backends (`/grpc/router`: pick, moves, ejection timer, resolution, sizing), a
 * backend's waits for a channel (`/grpc/wait`: fail-fast, deadline) and the target's resolution
 * (`/grpc/resolve`, with this package's grpc-js).
 *
 * @internal
 */
import { OptionCheck, Pool, type PoolConfigError, PoolClosedError } from "@effect-pool/core"
import type * as Backends from "@effect-pool/engine/grpc/backends"
import { backendChannelOptions, watchTarget } from "@effect-pool/engine/grpc/resolve"
import { type BackendSizing, Router } from "@effect-pool/engine/grpc/router"
import { BackendWaits } from "@effect-pool/engine/grpc/wait"
import * as grpc from "@grpc/grpc-js"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
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
  /** Its channels, connection attempts and fail-fast waits (the engine's). */
  readonly waits: BackendWaits<GrpcError, PooledChannel>

  constructor(
    readonly owner: GrpcPoolImpl,
    /** The resolved address (`host:port`), or the target itself. */
    readonly address: string,
    /** The target its channels are opened on (`ipv4:host:port`, …, or the target itself). */
    readonly target: string,
    readonly channelOptions: grpc.ChannelOptions
  ) {
    this.waits = new BackendWaits(owner.waitForReady, owner.core.concurrency)
  }

  /** Its channels connected. */
  get channels(): ReadonlySet<PooledChannel> {
    return this.waits.channels
  }

  private get connectTimeout(): number {
    return this.owner.connectTimeout
  }
  private get healthService(): string | undefined {
    return this.owner.healthService
  }
  private get healthTimeout(): number {
    return this.owner.healthTimeout
  }

  /** Its load now, for the pick: channels in rotation, the calls on them and the calls waiting for one (every wait `lend` arms). */
  load(): Backends.Load {
    return this.waits.load()
  }

  /** A connection attempt failed: fail-fast calls waiting fail with it, unless a connection is up. */
  private connectionFailed(reason: string): void {
    this.owner.router.connectionFailed(this)
    this.waits.connectionFailed(unavailable(this.owner.target, reason))
  }

  /**
   * Borrows a channel for one call, with grpc's semantics of a call waiting for a connection:
   * fail-fast (UNAVAILABLE once a connection attempt fails while no channel is connected — at
   * once if the pool is failing to connect right now), or with `waitForReady` until a channel
   * is READY; either way DEADLINE_EXCEEDED once the call's deadline passes, and the pool's
   * `acquireTimeout`. `done` is called once (synchronously when a channel is free). The deadline
   * and fail-fast end the wait through `borrow.abort` (a channel handed over at that moment goes
   * back unused); the function returned gives up a wait still going, its timer and listing with it.
   */
  readonly lend: Lend = (options, done) => {
    let settle = () => {}
    const borrow = Pool.unsafeBorrow(this.pool, (lease, failure) => {
      // lent, failed, or given up (abort): the wait's timer and fail-fast listing end with it
      settle()
      done(lease, this.named(failure as Cause.Cause<CallError> | undefined))
    })
    const cancel = () => {
      if (borrow.state !== "waiting") return // a channel once lent is the call's to return
      settle()
      borrow.cancel()
    }
    if (borrow.state !== "waiting") return cancel // lent at once: the fast path
    settle = this.waits.arm(options, (error) => borrow.abort(Cause.fail(error)), deadlineExceeded)
    return cancel
  }

  /** A failure of its core pool: closed, it names the pool (not the core pool's `pool/address`). */
  private named(failure: Cause.Cause<CallError> | undefined): Cause.Cause<CallError> | undefined {
    if (failure === undefined) return failure
    const error = Cause.failureOption(failure)
    return error._tag === "Some" && error.value._tag === "PoolClosedError" && error.value.pool !== this.owner.name
      ? Cause.fail(new PoolClosedError({ pool: this.owner.name }))
      : failure
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
          this.owner.router.refresh()
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
        if (connecting) this.waits.connecting--
        connecting = false
      }
      this.waits.connecting++
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
        this.waits.connected()
        this.owner.router.connected(this)
        this.waits.channels.add(pooled)
        resume(Effect.succeed(pooled))
      })
      return Effect.sync(() => {
        settle()
        pooled.close()
      })
    })),
    (pooled) =>
      Effect.sync(() => {
        this.waits.channels.delete(pooled)
        pooled.close()
      })
  )

  /** The target and, when it is one address of several, which. */
  get describe(): string {
    return this.target === this.owner.target ? this.owner.target : `${this.owner.target} (backend ${this.address})`
  }
}

/** A wait's failure another backend may not have: its backend cannot connect, or closed (drained). */
const movable = (failure: Cause.Cause<CallError>): boolean => {
  const error = Cause.failureOption(failure)
  if (error._tag === "None") return false
  const e = error.value
  return e._tag === "PoolClosedError" || (e._tag === "GrpcError" && e.code === grpc.status.UNAVAILABLE)
}

/** What every backend's core pool is made with (besides its acquire, name, min and max). */
export type CorePoolOptions = Omit<Pool.Options<PooledChannel, GrpcError, never>, "acquire" | "name" | "min" | "max">

const backendGauges = {
  channels: Metric.gauge("effect_pool_grpc_backend_channels", { description: "channels open to the backend" }),
  activeCalls: Metric.gauge("effect_pool_grpc_backend_active_calls", { description: "calls in flight on the backend" }),
  waitingCalls: Metric.gauge("effect_pool_grpc_backend_waiting_calls", { description: "calls waiting for a channel of the backend" }),
  ejected: Metric.gauge("effect_pool_grpc_backend_ejected", { description: "1 while the backend is ejected by outlier detection" }),
  consecutiveFailures: Metric.gauge("effect_pool_grpc_backend_consecutive_failures", { description: "calls in a row that failed on the backend" })
}
const ejections = Metric.counter("effect_pool_grpc_backend_ejections_total", { description: "backends ejected by outlier detection" })

/** A wait for a channel: `done` gets the lease or the failure once; the function returned gives up a wait still going. */
type Lend = (options: ParsedCall, done: (lease: Pool.Borrow<PooledChannel> | undefined, failure: Cause.Cause<CallError> | undefined) => void) => () => void

/**
 * The pool: its backends (one per address the target resolves to, followed through
 * re-resolution) and the pick of a backend for each call — the engine's `Router`
 * (`@effect-pool/engine/grpc/router`: least loaded, ejected and draining ones left out, a wait
 * moved off a backend that cannot connect) — and what all backends share. This shell opens a
 * backend's core pool in a scope of its own and closes it to drain it.
 */
export class GrpcPoolImpl {
  /** Calls sent again on another channel after failing before reaching the server. */
  retries = 0
  readonly router: Router<Backend, ParsedCall, Pool.Borrow<PooledChannel>, Cause.Cause<CallError>>
  runtime!: Runtime.Runtime<never>
  scope!: Scope.Scope
  /** The backends' scopes' parent: closed with the pool, every backend at once (each given `shutdownTimeout` together, not in turn). */
  backendScope!: Scope.Scope
  /** The pool's `Clock` (the context `make` ran in): ejections are timed with it, so a `TestClock` drives them. */
  clock: Clock.Clock = Clock.make()

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
    this.router = new Router<Backend, ParsedCall, Pool.Borrow<PooledChannel>, Cause.Cause<CallError>>(name, target, backendOptions, {
      open: (address, target, sizing) => this.open(address, target, sizing),
      // valid sizes (min ≤ max, both ≥ 0): the router computes them
      resize: (backend, sizing) => Runtime.runSync(this.runtime)(Effect.ignore(Pool.resize(backend.pool, { min: sizing.min, max: sizing.max }))),
      drain: (backend, closed) => {
        Runtime.runFork(this.runtime)(Effect.ensuring(Scope.close(backend.scope, Exit.void), Effect.sync(closed)))
      },
      lend: (backend, options, done) => backend.lend(options, done),
      movable,
      closedFailure: () => Cause.fail(new PoolClosedError({ pool: name })),
      // ejection ends on the pool's Clock: a fiber of the pool's scope sleeps, then runs `f`;
      // cleared by interrupting it (per-call deadlines stay grpc-js's, wall-clock)
      setTimer: (ms, f) => this.sleep(ms, f),
      clearTimer: (timer) => (timer as Fiber.RuntimeFiber<void>).unsafeInterruptAsFork(FiberId.none),
      now: () => this.clock.unsafeCurrentTimeMillis(),
      ejected: (address) => ejections.unsafeUpdate(1, [MetricLabel.make("pool", name), MetricLabel.make("backend", address)])
    })
  }

  /** Runs `f` after `ms` of the pool's Clock, in a fiber of the pool's scope (interrupt it to cancel). */
  private sleep(ms: number, f: () => void): Fiber.RuntimeFiber<void> {
    return Runtime.runFork(this.runtime)(Effect.zipRight(Effect.sleep(ms), Effect.sync(f)), { scope: this.scope, immediate: true })
  }

  /** Every channel open, of every backend. */
  get channels(): ReadonlyArray<PooledChannel> {
    return this.router.backends.flatMap((backend) => [...backend.channels])
  }

  /** Every backend's core pool. */
  get pools(): ReadonlyArray<Pool.Pool<PooledChannel, GrpcError>> {
    return this.router.backends.map((b) => b.pool)
  }

  /** Per-backend stats (the engine's shape), metrics refreshed. */
  backendStats(): ReadonlyArray<Backends.BackendStats> {
    const stats = this.router.backendStats()
    for (const s of stats) {
      const tags = [MetricLabel.make("pool", this.name), MetricLabel.make("backend", s.address)]
      backendGauges.channels.unsafeUpdate(s.channels, tags)
      backendGauges.activeCalls.unsafeUpdate(s.activeCalls, tags)
      backendGauges.waitingCalls.unsafeUpdate(s.waitingCalls, tags)
      backendGauges.ejected.unsafeUpdate(s.ejected ? 1 : 0, tags)
      backendGauges.consecutiveFailures.unsafeUpdate(s.consecutiveFailures, tags)
    }
    return stats
  }

  /** A call on `pooled` ended with `code`: outlier detection counts it. */
  callEnded(pooled: PooledChannel, code: number): void {
    this.router.callEnded(pooled.backend as Backend | undefined, code)
  }

  /** Opens a backend: its core pool, in a scope of its own under the pool's (the router's `open`). */
  private open(address: string, target: string, sizing: BackendSizing): Backend {
    const options = target === this.target ? this.channelOptions : backendChannelOptions(this.target, this.channelOptions, grpc)
    const backend = new Backend(this, address, target, options)
    Runtime.runSync(this.runtime)(Effect.gen(this, function*() {
      const scope = yield* Scope.fork(this.backendScope, ExecutionStrategy.sequential)
      backend.scope = scope
      backend.pool = yield* Scope.extend(Pool.make({ ...this.core, acquire: backend.acquire, ...sizing }), scope)
    }))
    return backend
  }

  /** Stops following the target (the pool is closing). */
  close(): void {
    this.router.close()
  }

  /**
   * Borrows a channel for one call (see `Backend.lend`) on the backend the router chooses; a
   * wait whose backend cannot connect or was drained moves to another (the router's `lend`).
   */
  readonly lend: Lend = (options, done) => this.router.lend(options, done)

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
          let lent: Pool.Borrow<PooledChannel> | undefined
          const cancel = this.lend(options, (lease, failure) => {
            if (lease === undefined) return resume(Effect.failCause(failure!))
            lent = lease
            resume(Effect.succeed(lease))
          })
          return Effect.sync(() => {
            if (lent === undefined) return cancel()
            lent.return() // interrupted as it was lent: given back here
          })
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
    impl.clock = yield* Effect.clock
    // closed after impl.close (finalizers run last first): the router stops, then every backend's core pool closes at once
    impl.backendScope = yield* Scope.fork(impl.scope, ExecutionStrategy.parallel)
    yield* Effect.addFinalizer(() => Effect.sync(() => impl.close()))
    const router = impl.router
    // pick_first, or a target no resolver of grpc-js takes: one backend, the target itself
    if (o.backends.loadBalancing === "pick_first") router.whole()
    else {
      // the first resolution before anything opens (up to connectTimeout); none: the whole target
      yield* Effect.async<void>((resume) => {
        let waiting = true
        const go = () => {
          if (!waiting) return
          waiting = false
          resume(Effect.void)
        }
        router.firstResolution = go
        // with this package's grpc-js: a resolver scheme registered in it is seen
        router.watch = watchTarget(o.target, impl.channelOptions, (addresses) => router.resolved(addresses), () => {
          // a resolution error keeps the backends there are; the first one makes the pool whole-target
          router.resolvedOnce()
        }, grpc)
        if (router.watch === undefined) go()
        const timer = setTimeout(go, Math.min(o.connectTimeout, OptionCheck.MAX_TIMER_MILLIS))
        return Effect.sync(() => clearTimeout(timer))
      }).pipe(Effect.ensuring(Effect.sync(() => {
        router.firstResolution = undefined
      })))
      if (router.live.size === 0) {
        router.watch?.close()
        router.watch = undefined
        router.whole()
      }
    }
    // the minChannels connect before make returns (up to connectTimeout; a server that is down
    // does not fail make — calls wait for it as before): a burst right after make spreads over
    // them instead of riding the first channel that became ready
    yield* Effect.forEach(impl.pools, (pool) => Pool.awaitMin(pool, { timeout: o.connectTimeout }), { concurrency: "unbounded", discard: true }).pipe(
      Effect.timeout(o.connectTimeout === Infinity ? OptionCheck.MAX_TIMER_MILLIS : o.connectTimeout),
      Effect.ignore
    )
    return impl
  })
