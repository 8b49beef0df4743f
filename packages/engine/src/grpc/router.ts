/**
 * The router of a gRPC pool over several backends (one per address its target resolves to):
 * the live and draining backends, the `BackendSet` (`./grpc/backends`) they follow, which
 * backend a call goes to (least loaded, ties round-robin), the wait that moves to another backend
 * when its own cannot connect or was drained, the timer that ends ejections, outlier detection
 * fed with call results, and a resolution turned into backends opened and drained. No runtime,
 * no grpc-js import: every edition's pool gives it `RouterPorts` (how to open, drain and lend
 * from ONE backend, a timer, the clock) and keeps only its Effect parts.
 *
 * @example
 * ```ts
 * import { Options } from "@effect-pool/engine"
 * import * as Backends from "@effect-pool/engine/grpc/backends"
 * import { Router } from "@effect-pool/engine/grpc/router"
 *
 * const codec: Options.DurationCodec = { decode: (input) => (typeof input === "number" ? input : undefined) }
 * const parsed = Options.check(codec, (check) => Backends.parseBackendOptions(check, {}, { minChannels: 1, maxChannels: 4 }))
 * if (parsed._tag === "Valid") {
 *   interface Server { readonly address: string; readonly load: () => Backends.Load }
 *   const router = new Router<Server, string, string, string>("orders", "ipv4:10.0.0.1:1,10.0.0.2:1", parsed.value, {
 *     open: (address) => ({ address, load: () => ({ channels: 1, activeCalls: 0, waitingCalls: 0 }) }),
 *     resize: () => {},
 *     drain: (_backend, closed) => closed(),
 *     lend: (backend, request, done) => {
 *       done(`${request} on ${backend.address}`, undefined)
 *       return () => {}
 *     },
 *     movable: (failure) => failure === "UNAVAILABLE",
 *     closedFailure: () => "closed",
 *     setTimer: (ms, f) => setTimeout(f, ms),
 *     clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
 *     now: Date.now
 *   })
 *   router.resolved(["10.0.0.1:1", "10.0.0.2:1"])
 *   router.lend("call", (lease) => console.log(lease)) // call on 10.0.0.1:1
 *   router.close()
 * }
 * ```
 * @since 0.1.0
 */
import { MAX_TIMER_MILLIS } from "../options.js"
import * as Backends from "./backends.js"

/** grpc status OK. */
const OK = 0

/** The load of a backend not open (none). */
const noLoad: Backends.Load = { channels: 0, activeCalls: 0, waitingCalls: 0 }

/** What the router needs of one backend (the edition's object: its core pool of channels). */
export interface RouterBackend {
  /** The resolved address (`host:port`), or the target itself. */
  readonly address: string
  /** Its load now: channels in rotation, the calls on them and the calls waiting for one. */
  readonly load: () => Backends.Load
}

/** How a backend's core pool is made: at least `min` channels, at most `max`, metrics named `name`. */
export interface BackendSizing {
  readonly min: number
  readonly max: number
  /** The core pool's name (its metrics' `pool` attribute): the pool's own for one backend, `pool/address` for several. */
  readonly name: string
}

/**
 * What differs per edition. `B` is its backend, `R` a call's request (its options), `L` a lease
 * (a borrowed channel), `F` a failure (its `Cause`).
 */
export interface RouterPorts<B extends RouterBackend, R, L, F> {
  /** Opens a backend on `target` (`ipv4:…`, or the pool's target itself). */
  readonly open: (address: string, target: string, sizing: BackendSizing) => B
  /**
   * The live backends changed: `backend`'s sizing is now `sizing` (the core pool's `resize`:
   * channels over the new max are retired once idle, never cut off under a call).
   */
  readonly resize: (backend: B, sizing: BackendSizing) => void
  /** No new calls to `backend`: closes it once its calls end, then calls `closed`. */
  readonly drain: (backend: B, closed: () => void) => void
  /**
   * A wait for a channel of `backend`: `done` is called once (synchronously when one is free)
   * with the lease or the failure; the function returned gives up a wait still going.
   */
  readonly lend: (backend: B, request: R, done: (lease: L | undefined, failure: F | undefined) => void) => () => void
  /** A wait's failure another backend may not have (its backend cannot connect, or closed). */
  readonly movable: (failure: F) => boolean
  /** The failure of a wait when the pool is closed (no backend left). */
  readonly closedFailure: () => F
  /**
   * Calls `f` after `ms` (the end of an ejection). The editions time it on the pool's Effect
   * `Clock` (a fiber of the pool's scope that sleeps), so a `TestClock` drives it.
   */
  readonly setTimer: (ms: number, f: () => void) => unknown
  /** Cancels a timer `setTimer` returned (not yet fired). */
  readonly clearTimer: (timer: unknown) => void
  /** The time now (ms), for ejections: the same clock as `setTimer`'s (the editions': the pool's `Clock`). */
  readonly now: () => number
  /** A backend was ejected (a metric). */
  readonly ejected?: ((address: string) => void) | undefined
}

/** A target followed (`./grpc/resolve`'s `TargetWatch`). */
export interface Watch {
  readonly refresh: () => void
  readonly close: () => void
}

/**
 * One pool's backends and the routing of its calls over them. The edition creates it, sets
 * `watch` when it follows the target, feeds it `resolved` (or `whole` for one backend, the
 * target itself) and calls `lend` for each call.
 */
export class Router<B extends RouterBackend, R, L, F> {
  /** The only backend, when there is one: calls skip the pick. */
  single: B | undefined = undefined
  /** The backends in rotation or ejected, by address. */
  readonly live = new Map<string, B>()
  /** Backends no longer resolved, closing once their calls end. */
  readonly draining = new Set<B>()
  set: Backends.BackendSet
  closed = false
  /** The target followed, if it is. */
  watch: Watch | undefined = undefined
  private timer: unknown = undefined
  /** Each live backend's sizing now (`maxChannels` divided among the live backends). */
  private readonly sizes = new Map<B, BackendSizing>()
  private armed = false
  /** Called once by the first resolution (or its failure, or `close`). */
  firstResolution: (() => void) | undefined = undefined

  constructor(
    /** The pool's name. */
    readonly name: string,
    /** The pool's target. */
    readonly target: string,
    readonly options: Backends.BackendOptions,
    private readonly ports: RouterPorts<B, R, L, F>
  ) {
    this.set = Backends.make(options)
  }

  /** Every backend open: live, then draining. */
  get backends(): ReadonlyArray<B> {
    return [...this.live.values(), ...this.draining]
  }

  /** The backend at `address`, live or draining. */
  backendAt(address: string): B | undefined {
    const live = this.live.get(address)
    if (live !== undefined) return live
    for (const b of this.draining) if (b.address === address) return b
    return undefined
  }

  /** Per-backend stats (the engine's shape). */
  backendStats(): ReadonlyArray<Backends.BackendStats> {
    return Backends.backendStats(this.set, (address) => this.backendAt(address)?.load() ?? noLoad)
  }

  /** Asks the resolver again (a channel was lost, a connection failed). */
  refresh(): void {
    this.watch?.refresh()
  }

  /** A connection attempt to `backend` failed: a failed call for its ejection; the target is resolved again. */
  connectionFailed(backend: B): void {
    this.ended(backend, Backends.UNAVAILABLE)
    this.refresh()
  }

  /** A channel to `backend` is READY: a success for it. */
  connected(backend: B): void {
    this.ended(backend, OK)
  }

  /** A call on `backend` ended with grpc status `code`: outlier detection counts it. */
  callEnded(backend: B | undefined, code: number): void {
    if (this.single !== undefined || this.options.outlierDetection === undefined || backend === undefined) return
    this.ended(backend, code)
  }

  private ended(backend: B, code: number): void {
    if (this.closed || this.options.outlierDetection === undefined || this.live.size < 2) return
    if (this.live.get(backend.address) !== backend) return
    this.run(Backends.callEnded(this.set, backend.address, code, this.ports.now()))
  }

  private run(step: Backends.Step): void {
    this.set = step.state
    for (const command of step.commands) {
      if (command._tag === "Eject") {
        this.ports.ejected?.(command.address)
        this.arm()
      }
    }
  }

  /** A timer for the next end of an ejection. */
  private arm(): void {
    if (this.armed) this.ports.clearTimer(this.timer)
    this.armed = false
    this.timer = undefined
    const next = Backends.nextTick(this.set)
    if (next === undefined || this.closed) return
    this.armed = true
    this.timer = this.ports.setTimer(Math.min(MAX_TIMER_MILLIS, Math.max(0, next - this.ports.now())), () => {
      this.armed = false
      this.timer = undefined
      this.run(Backends.tick(this.set, this.ports.now()))
      this.arm()
    })
  }

  /** Whether an ejection timer is armed (for tests and stats). */
  get timerArmed(): boolean {
    return this.armed
  }

  /** A resolution came in: backends opened, drained, undrained. */
  resolved(addresses: ReadonlyArray<string>): void {
    if (this.closed) return
    const step = Backends.resolved(this.set, addresses)
    this.set = step.state
    // the new backends first: a call waiting on a drained one moves to one of them
    for (const command of step.commands) {
      if (command._tag === "Open" || (command._tag === "Undrain" && !this.live.has(command.address))) this.open(command.address, Backends.addressTarget(command.address))
    }
    for (const command of step.commands) if (command._tag === "Drain") this.drain(command.address)
    if (step.commands.length > 0) this.redivide()
    this.single = this.live.size === 1 ? this.live.values().next().value : undefined
    this.resolvedOnce()
  }

  /** One backend, the target itself (`pick_first`, or a target no resolver takes). */
  whole(): void {
    this.set = Backends.resolved(this.set, [this.target]).state
    this.open(this.target, this.target)
    this.single = this.live.get(this.target)
  }

  /** The first resolution is in (or failed): the pool's `make` goes on. */
  resolvedOnce(): void {
    const first = this.firstResolution
    this.firstResolution = undefined
    first?.()
  }

  /**
   * How the backend at `address` is sized: at least one channel while the pool keeps any
   * (`minChannels` ≥ 1: the pick sends calls to backends with a channel, so one without would
   * never get any), its share of the minimums otherwise; at most its share of `maxChannels`
   * among the live backends (and `maxChannelsPerBackend`).
   */
  sizing(address: string, target: string): BackendSizing {
    const { min, max, live } = this.limits(address)
    // a target that resolves to one address keeps the pool's own name (dashboards of a
    // one-server pool unchanged); of several, `name/address`
    const name = target === this.target || live === 1 ? this.name : `${this.name}/${address}`
    return { min, max, name }
  }

  private limits(address: string): { readonly min: number; readonly max: number; readonly live: number } {
    const o = this.options
    const min = Math.min(o.maxChannelsPerBackend, Math.max(Backends.minimums(this.set).get(address) ?? o.minChannels, o.minChannels > 0 ? 1 : 0))
    const live = Math.max(1, this.set.backends.filter((b) => !b.draining).length)
    const max = Math.max(min, Math.min(o.maxChannelsPerBackend, Math.max(1, Math.floor(o.maxChannels / live))))
    return { min, max, live }
  }

  /** Opens a backend (the edition's port), live from now on. */
  private open(address: string, target: string): void {
    const sizing = this.sizing(address, target)
    const backend = this.ports.open(address, target, sizing)
    this.live.set(address, backend)
    this.sizes.set(backend, sizing)
  }

  /**
   * The live backends changed: each one's share of the minimums and of `maxChannels` again, so
   * that added backends do not take the pool past `maxChannels` (the others shrink, their surplus
   * channels retired once idle) and removed ones leave their share to the rest.
   */
  private redivide(): void {
    for (const [address, backend] of this.live) {
      const before = this.sizes.get(backend)
      const { min, max } = this.limits(address)
      if (before !== undefined && before.min === min && before.max === max) continue
      // the name stays: a core pool's metrics keep theirs
      const after = { min, max, name: before?.name ?? this.name }
      this.sizes.set(backend, after)
      this.ports.resize(backend, after)
    }
  }

  /** The sizing `backend` has now (`undefined` once drained). */
  sizingOf(backend: B): BackendSizing | undefined {
    return this.sizes.get(backend)
  }

  /** No new calls to the backend at `address`: the edition closes it once its calls end. */
  private drain(address: string): void {
    const backend = this.live.get(address)
    if (backend === undefined) return
    this.live.delete(address)
    this.sizes.delete(backend)
    this.draining.add(backend)
    this.ports.drain(backend, () => {
      this.draining.delete(backend)
      // the address may have come back and gone again meanwhile: its newer backend keeps its entry
      for (const other of this.draining) if (other.address === address) return
      this.set = Backends.removed(this.set, address)
    })
  }

  /** Stops following the target and the ejection timer (the pool is closing). */
  close(): void {
    this.closed = true
    this.watch?.close()
    if (this.armed) this.ports.clearTimer(this.timer)
    this.armed = false
    this.timer = undefined
    this.resolvedOnce()
  }

  private readonly load = (address: string): Backends.Load => this.live.get(address)?.load() ?? noLoad

  /** The backend for a call: the engine's pick, or the least loaded not yet tried. */
  choose(tried: ReadonlySet<B> | undefined): B | undefined {
    const picked = Backends.pick(this.set, tried === undefined ? this.load : (address) => {
      const backend = this.live.get(address)
      return backend === undefined || tried.has(backend) ? { channels: 1, activeCalls: Infinity, waitingCalls: 0 } : backend.load()
    })
    this.set = picked.state
    const backend = picked.address === undefined ? undefined : this.live.get(picked.address)
    if (backend !== undefined && tried?.has(backend) !== true) return backend
    for (const other of this.live.values()) if (tried?.has(other) !== true) return other
    return undefined
  }

  /** Whether a live backend is not in `tried` (the backends a wait was on may be drained: not live). */
  private untried(tried: ReadonlySet<B>): boolean {
    for (const backend of this.live.values()) if (!tried.has(backend)) return true
    return false
  }

  /**
   * A wait for a channel for one call on the backend the pick chooses. A wait that fails because
   * its backend cannot connect or was drained (`movable`) moves to another backend not tried yet:
   * a server gone costs no call. `done` is called once (synchronously when a channel is free);
   * the function returned gives up the wait, wherever it has moved (a move after it is not made).
   */
  lend(request: R, done: (lease: L | undefined, failure: F | undefined) => void): () => void {
    const tried = new Set<B>()
    let cancel: () => void = () => {}
    let cancelled = false
    let generation = 0
    const attempt = (): void => {
      // one backend: no pick (a wait on it still moves, if a resolution replaces it)
      const backend = tried.size === 0 && this.single !== undefined ? this.single : this.choose(tried.size === 0 ? undefined : tried)
      if (backend === undefined) {
        // only once closed (a resolution never empties the set)
        done(undefined, this.ports.closedFailure())
        return
      }
      tried.add(backend)
      const g = ++generation
      const next = this.ports.lend(backend, request, (lease, failure) => {
        if (lease === undefined && failure !== undefined && !cancelled && !this.closed && this.ports.movable(failure) && this.untried(tried)) attempt()
        else done(lease, failure)
      })
      // a move made synchronously inside that lend has its own cancel already
      if (g === generation) cancel = next
    }
    attempt()
    return () => {
      cancelled = true
      cancel()
    }
  }
}
