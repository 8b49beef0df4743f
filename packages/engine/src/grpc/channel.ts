/**
 * One pooled channel: a grpc-js `Channel` with a connection of its own
 * (`grpc.use_local_subchannel_pool`: without it every channel to a target shares one
 * connection), a `Client` bound to it, its connectivity watched, the calls made on it tracked so
 * a close can end them. Callback-based, no Effect import: every edition's gRPC pool drives it.
 * Needs `@grpc/grpc-js` (an optional peer dependency of the engine: only this subpath loads it).
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js"
 * import { PooledChannel } from "@effect-pool/engine/grpc/channel"
 *
 * const channel = new PooledChannel({ target: "127.0.0.1:50051", credentials: grpc.credentials.createInsecure(), options: { "grpc.use_local_subchannel_pool": 1 } })
 * channel.connect(5_000, () => console.log("an attempt failed"), (failure) => {
 *   console.log(failure ?? "READY")
 *   channel.close()
 * })
 * ```
 * @since 0.1.0
 */
import * as grpc from "@grpc/grpc-js"

const S = grpc.connectivityState

/** Longest a close waits for a connecting channel to settle. */
const CLOSE_WAIT = 30_000

export interface ChannelSettings {
  readonly target: string
  readonly credentials: grpc.ChannelCredentials
  readonly options: grpc.ChannelOptions
  /**
   * The `@grpc/grpc-js` the channel is made with: the caller's, when it may not be the one this
   * module resolves (grpc-js checks its credentials with `instanceof`, so credentials of one copy
   * fail in another's `Channel`). [the engine's own import]
   */
  readonly grpc?: { readonly Channel: typeof grpc.Channel; readonly Client: typeof grpc.Client } | undefined
}

export class PooledChannel {
  readonly channel: grpc.Channel
  readonly client: grpc.Client
  readonly createdAt = Date.now()
  /** Its pool item (the core's borrower count is its calls running now); set when lent out. */
  item: { readonly borrowers: number } | undefined = undefined
  /** The calls made through the pool's client, cancelled if the channel closes under them. */
  readonly calls = new Set<{ cancel(): void }>()
  /** Its last health check was answered other than SERVING (the pool holds it out of rotation). */
  notServing = false
  /** It left READY after being ready: its connection is gone (calls on it fail on their own). */
  lost = false
  closed = false
  /** The backend (one resolved address) it belongs to, as its pool's shell keeps it. */
  backend: unknown = undefined
  /** Called once when it leaves READY for good. */
  onLost: ((channel: PooledChannel) => void) | undefined

  constructor(readonly settings: ChannelSettings) {
    const module = settings.grpc ?? grpc
    this.channel = new module.Channel(settings.target, settings.credentials, settings.options)
    this.client = new module.Client(settings.target, settings.credentials, { channelOverride: this.channel })
  }

  state(): grpc.connectivityState {
    return this.closed ? S.SHUTDOWN : this.channel.getConnectivityState(false)
  }

  /**
   * Connects; `done` gets nothing once READY, or why not within `timeout` ms. `failed` hears each
   * failed connection attempt on the way (the channel entering TRANSIENT_FAILURE: grpc-js keeps
   * trying with its backoff, and a fail-fast call would fail now).
   */
  connect(timeout: number, failed: () => void, done: (failure: string | undefined) => void): void {
    const deadline = timeout === Infinity ? Infinity : Date.now() + timeout
    let last = "no attempt"
    let previous: grpc.connectivityState | undefined
    const check = () => {
      if (this.closed) return done("closed while connecting")
      const state = this.channel.getConnectivityState(true)
      if (state === S.READY) {
        this.watch()
        return done(undefined)
      }
      if (state === S.TRANSIENT_FAILURE) {
        last = "TRANSIENT_FAILURE"
        if (previous !== S.TRANSIENT_FAILURE) failed()
      }
      previous = state
      if (Date.now() >= deadline) return done(`not ready within ${timeout} ms (last state ${last})`)
      this.channel.watchConnectivityState(state, deadline, () => setImmediate(check))
    }
    check()
  }

  /** Watches a READY channel; the first move away from READY marks it lost. */
  private watch(): void {
    const next = () => {
      if (this.closed) return
      const state = this.channel.getConnectivityState(false)
      if (state === S.READY) return this.channel.watchConnectivityState(state, Infinity, next)
      this.lost = true
      // never from inside grpc-js's own callback: closing there can leave a subchannel behind
      setImmediate(() => this.onLost?.(this))
    }
    this.channel.watchConnectivityState(S.READY, Infinity, next)
  }

  /**
   * Closes the channel and its connection, the safe way in grpc-js 1.14: never synchronously
   * inside one of its connectivity callbacks, and never while it is connecting or in
   * TRANSIENT_FAILURE — a channel closed then can leave a subchannel behind that reconnects once
   * the server is back and keeps its socket (seen as one leaked connection per few restarts).
   * Such a channel is closed as soon as it settles in IDLE, READY or SHUTDOWN, or after 30 s
   * (a server that stays away) at the latest.
   */
  close(): void {
    if (this.closed) return
    this.closed = true
    // grpc-js lets calls run on a closed channel: the pool's close ends them (shutdownTimeout)
    for (const call of this.calls) call.cancel()
    this.calls.clear()
    const latest = Date.now() + CLOSE_WAIT
    const attempt = () => {
      const state = this.channel.getConnectivityState(false)
      if ((state === S.CONNECTING || state === S.TRANSIENT_FAILURE) && Date.now() < latest) {
        this.channel.watchConnectivityState(state, latest, () => setImmediate(attempt))
        return
      }
      this.client.close()
      this.channel.close()
    }
    setImmediate(attempt)
  }
}
