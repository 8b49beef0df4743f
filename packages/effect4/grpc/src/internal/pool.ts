/**
 * The gRPC pool's Effect shell: a core `Pool` of channels (one item = one channel with its own
 * connection, `concurrency` = streams per channel, least-loaded pick by the core), channels that
 * lose their connection replaced, and the wait for a channel with grpc's fail-fast /
 * `waitForReady` semantics. The calls are in unary.ts and streams.ts, the client in client.ts,
 * the options in options.ts, health checks in health.ts, stats in stats.ts.
 *
 * @internal
 */
import { OptionCheck, Pool, type PoolConfigError } from "@effect-pool/core"
import * as grpc from "@grpc/grpc-js"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { GrpcError } from "../GrpcError.js"
import { type CallOptions, invalidArgument, noCallOptions, type ParsedCall, parseCallOptions } from "./callOptions.js"
import { PooledChannel } from "@effect-pool/engine/grpc/channel"
import { type CallError, deadlineExceeded, unavailable } from "./errors.js"
import { checkHealth, isNotServing } from "./health.js"
import { type PoolOptions, parseOptions } from "./options.js"

export type { CallOptions } from "./callOptions.js"
export type { CallError } from "./errors.js"

export class GrpcPoolImpl {
  pool!: Pool.Pool<PooledChannel, GrpcError>
  readonly channels = new Set<PooledChannel>()
  /** Calls sent again on another channel after failing before reaching the server. */
  retries = 0

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
    readonly waitForReady: boolean
  ) {}

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
    const error = unavailable(this.target, reason)
    this.failure = error
    if (this.failFast.size === 0 || this.hasConnection()) return
    for (const fail of [...this.failFast]) fail(error)
  }

  /**
   * Borrows a channel for one call, with grpc's semantics of a call waiting for a connection:
   * fail-fast (UNAVAILABLE once a connection attempt fails while no channel is connected — at
   * once if the pool is failing to connect right now), or with \`waitForReady\` until a channel
   * is READY; either way DEADLINE_EXCEEDED once the call's deadline passes, and the pool's
   * \`acquireTimeout\`. \`done\` is called once (synchronously when a channel is free); the
   * function returned gives up a wait still going.
   */
  lend(options: ParsedCall, done: (lease: Pool.Borrow<PooledChannel> | undefined, failure: Cause.Cause<CallError> | undefined) => void): () => void {
    let settled = false
    let listed = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let cancel: () => void = () => {}
    const giveUp = (error: GrpcError) => {
      if (settled) return
      stop()
      cancel()
      done(undefined, Cause.fail(error))
    }
    const stop = () => {
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      if (listed) this.failFast.delete(giveUp)
    }
    const borrow = Pool.unsafeBorrow(this.pool, (lease, failure) => {
      if (settled) {
        // given up (a timer, fail-fast) while the pool was handing it over: not ours any more
        lease?.return()
        return
      }
      stop()
      done(lease, failure as Cause.Cause<CallError> | undefined)
    })
    // gives up a wait only: a channel once lent is the call's to return
    cancel = () => {
      if (borrow.state === "waiting") borrow.cancel()
    }
    if (settled) return cancel // lent at once: the fast path
    if (!(options.waitForReady ?? this.waitForReady)) {
      // grpc's fail-fast: a channel in TRANSIENT_FAILURE fails a call at once; here, a pool whose
      // last attempt failed, that is trying again, and has no connection up
      if (this.failure !== undefined && this.connecting > 0 && !this.hasConnection()) {
        stop()
        cancel()
        // on the next turn of the event loop, as grpc-js reports it: a caller retrying in a loop
        // without a pause must not starve the I/O that would let the pool connect again
        const failure = this.failure
        let dropped = false
        setImmediate(() => {
          if (!dropped) done(undefined, Cause.fail(failure))
        })
        return () => {
          dropped = true
        }
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
    return () => {
      if (settled) return
      stop()
      cancel()
    }
  }

  /** Opens one channel, waits for READY (and SERVING, with a health check): the core pool's `acquire`. */
  readonly acquire = (item: Pool.ItemHandle): Effect.Effect<PooledChannel, GrpcError, Scope.Scope> => {
    const connected = Effect.tap(this.connect, (pooled) =>
      Effect.sync(() => {
        pooled.item = item
        // a channel that leaves READY is out of rotation now if idle, when its calls end otherwise
        pooled.onLost = () => item.invalidate()
      }))
    return this.healthService === undefined
      ? connected
      : Effect.tap(connected, (pooled) => checkHealth(pooled, this.healthService!, this.healthTimeout))
  }

  private readonly connect: Effect.Effect<PooledChannel, GrpcError, Scope.Scope> = Effect.acquireRelease(
    // interruptible while it connects (acquireRelease's acquire is not): a pool closing while a
    // channel connects to a server that is down closes it now instead of awaiting connectTimeout
    Effect.interruptible(Effect.callback<PooledChannel, GrpcError>((resume) => {
      const pooled = new PooledChannel({ target: this.target, credentials: this.credentials, options: this.channelOptions, grpc })
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
            details: `${this.target}: ${failure}`,
            metadata: undefined,
            message: `UNAVAILABLE: could not connect to ${this.target}: ${failure}`
          })))
        }
        this.failure = undefined
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


  /** The pool's channels compress (`grpc.default_compression_algorithm` other than identity). */
  private get compresses(): boolean {
    const algorithm: unknown = this.channelOptions["grpc.default_compression_algorithm"]
    return algorithm !== undefined && algorithm !== 0 && algorithm !== "identity"
  }

  /** A call's options, checked, also against the pool (`compress: true` needs channels that compress). */
  parse(input: CallOptions | undefined): Result.Result<ParsedCall, GrpcError> {
    const parsed = parseCallOptions(input)
    if (parsed._tag === "Success" && parsed.success.compress === true && !this.compresses) {
      return Result.fail(invalidArgument("compress", "the pool's channels do not compress: set channelOptions[\"grpc.default_compression_algorithm\"] (grpc-js compresses per channel)"))
    }
    return parsed
  }

  /** Borrows a channel for a scope (streams, `channel`), waiting for it as `lend` does. */
  borrowFor(options: ParsedCall): Effect.Effect<PooledChannel, CallError, Scope.Scope> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        restore(Effect.callback<Pool.Borrow<PooledChannel>, CallError>((resume) => {
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
    const o = yield* Effect.fromResult(parseOptions(options))
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
      o.waitForReady
    )
    impl.pool = yield* Pool.make({
      acquire: impl.acquire,
      name: o.name,
      min: o.minChannels,
      max: o.maxChannels,
      concurrency: o.streams,
      targetUtilization: o.targetUtilization,
      maxLifetime: o.maxAge,
      maxLifetimeJitter: o.maxAgeJitter,
      idleTimeout: o.idleTimeout,
      acquireTimeout: o.acquireTimeout,
      createTimeout: Infinity, // connectTimeout bounds a connection, with a GrpcError
      shutdownTimeout: o.shutdownTimeout,
      // how long a health check may take (core's healthCheck timeout)
      validateTimeout: o.healthTimeout === Infinity ? OptionCheck.MAX_TIMER_MILLIS : o.healthTimeout,
      healthCheck: o.healthService === undefined ? undefined : {
        check: (pooled) => checkHealth(pooled, o.healthService!, o.healthTimeout),
        schedule: o.healthSchedule ?? Schedule.spaced("10 seconds"),
        // NOT_SERVING is the service's word, not a broken connection: the channel stays
        // connected, out of rotation, until a check finds it SERVING (as grpc's own health-checking
        // clients do); a check that fails otherwise (no answer, UNAVAILABLE) replaces the channel
        onFailure: (error) => (isNotServing(error) ? "suspend" : "evict")
      }
    })
    // the minChannels connect before make returns (up to connectTimeout; a server that is down
    // does not fail make — calls wait for it as before): a burst right after make spreads over
    // them instead of riding the first channel that became ready
    yield* Pool.awaitMin(impl.pool).pipe(Effect.timeout(o.connectTimeout === Infinity ? OptionCheck.MAX_TIMER_MILLIS : o.connectTimeout), Effect.ignore)
    return impl
  })
