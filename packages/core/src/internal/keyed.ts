/**
 * A keyed pool: one pool shell per key, created on first use, all sharing the keyed pool's
 * scope, housekeeper, health checker and — with `maxTotal` — one budget of items.
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as MutableHashMap from "effect/MutableHashMap"
import type { Runtime } from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as OptionCheck from "../OptionCheck.js"
import type { PoolConfigError } from "../PoolError.js"
import { parseKeyedLimits, type PoolConfig } from "./config.js"
import { checkOptions, type CommonOptions, configOf, lifecycleOf, startBackground } from "./pool.js"
import type { ItemHandle } from "../Pool.js"
import { ValueIndex } from "./handle.js"
import { PoolShell } from "./shell.js"
import * as State from "@effect-pool/engine/state"
import { messageOfThrown } from "@effect-pool/engine/options"
import type * as Clock from "effect/Clock"

export interface KeyedOptions<K, A, E, R> extends CommonOptions<A, E, R> {
  readonly acquire: (key: K, item: ItemHandle) => Effect.Effect<A, E, Scope.Scope | R>
  readonly maxPerKey?: number | undefined
  readonly maxTotal?: number | undefined
  readonly maxIdleTotal?: number | undefined
  readonly idleKeyTimeout?: Duration.DurationInput | undefined
}

/**
 * What the keys share: the `maxTotal` budget (reserved per creation, freed when an item is
 * gone) and the `maxIdleTotal` cap on idle items across keys. `tryReserve`, `free` and `idled`
 * only keep count (they run inside a key's transition); reclaiming another key's idle item and
 * waking parked keys run other keys' transitions, so the state machine returns them as
 * `Reclaim` and `Wake` commands and the shell calls `reclaim` and `wake` after the transition.
 */
class SharedBudget implements State.Budget {
  used = 0
  private readonly parked: Array<PoolShell<any, any>> = []

  constructor(
    readonly max: number,
    readonly maxIdle: number,
    private readonly keyed: KeyedPoolShell<any, any, any>
  ) {}

  tryReserve(state: State.PoolState<any>): boolean {
    const shell = this.keyed.shellOfState(state)
    // a unit freed while keys are parked is theirs (they retry on the Wake that follows), in turn
    if (this.used < this.max && (this.parked.length === 0 || this.parked[0] === shell)) {
      if (this.parked.length > 0) {
        this.parked.shift()
        state.starved = false
      }
      this.used++
      return true
    }
    if (shell !== undefined && !this.parked.includes(shell)) this.parked.push(shell)
    return false
  }

  idled(): boolean {
    return this.parked.length > 0 || (this.maxIdle !== Infinity && this.keyed.idleTotal() > this.maxIdle)
  }

  free(): void {
    this.used--
  }

  reclaim(state: State.PoolState<any>, starved: boolean): void {
    if (starved) this.keyed.reclaimFor(state)
    else if (this.parked.length > 0) this.keyed.reclaimFor(this.parked[0].state)
    else if (this.maxIdle !== Infinity && this.keyed.idleTotal() > this.maxIdle) this.keyed.reclaimFor(undefined)
  }

  wake(): void {
    while (this.used < this.max && this.parked.length > 0) {
      // the first parked key retries; tryReserve takes it off the list when it gets a unit
      const shell = this.parked[0]
      shell.state.starved = false
      shell.demand()
      if (this.parked[0] === shell) this.parked.shift() // it wanted nothing more
    }
  }
}

/** Totals of keys already removed, so that the keyed pool's counters never go backwards. */
interface Retired {
  created: number
  destroyed: number
  timeouts: number
  failures: number
  borrows: number
  invalidated: number
}

export class KeyedPoolShell<K, A, E> {
  readonly shells = MutableHashMap.empty<K, PoolShell<A, E>>()
  private readonly byState = new Map<State.PoolState<A>, { readonly key: K; readonly shell: PoolShell<A, E> }>()
  private readonly emptySince = new Map<PoolShell<A, E>, number>()
  readonly budget: SharedBudget | undefined
  readonly retired: Retired = { created: 0, destroyed: 0, timeouts: 0, failures: 0, borrows: 0, invalidated: 0 }
  /** Live items of every key by value (`KeyedPool.invalidate`). */
  readonly index = new ValueIndex<A>()
  closed = false

  constructor(
    readonly config: PoolConfig,
    readonly maxTotal: number,
    readonly maxIdleTotal: number,
    readonly idleKeyTimeout: number,
    private readonly options: KeyedOptions<K, A, E, any>,
    private readonly runtime: Runtime<never>,
    private readonly clock: Clock.Clock
  ) {
    this.budget = maxTotal === Infinity && maxIdleTotal === Infinity
      ? undefined
      : new SharedBudget(maxTotal, maxIdleTotal, this)
  }

  /** The shell of `key`, made on first use (`undefined` once closed). */
  shellFor(key: K): PoolShell<A, E> | undefined {
    const found = MutableHashMap.get(this.shells, key)
    if (found._tag === "Some") return found.value
    if (this.closed) return undefined
    const shell = new PoolShell<A, E>(
      this.config,
      lifecycleOf<A, E, any>((item) => this.options.acquire(key, item), this.options, this.runtime as Runtime<any>),
      this.clock,
      this.runtime,
      // the key's string form, or a description when it has none (a null-prototype object, a
      // toString or Symbol.toPrimitive that throws): a key is never a defect for its label
      { pool: this.config.name, key: messageOfThrown(key) },
      this.budget,
      this.index
    )
    MutableHashMap.set(this.shells, key, shell)
    this.byState.set(shell.state, { key, shell })
    // a key that has just emptied starts its idle-key clock now, not at the next housekeeping
    shell.onDestroyed = () => {
      if (State.unused(shell.state) && !this.emptySince.has(shell)) this.emptySince.set(shell, this.clock.unsafeCurrentTimeMillis())
    }
    shell.demand()
    return shell
  }

  shellOfState(state: State.PoolState<any>): PoolShell<A, E> | undefined {
    return this.byState.get(state)?.shell
  }

  /** Idle items across keys. */
  idleTotal(): number {
    let idle = 0
    for (const state of this.byState.keys()) idle += state.idle.length
    return idle
  }

  /**
   * Destroys the oldest idle item (of a key above its min) of any key but `state`'s: room for
   * a key at `maxTotal`, or fewer idle items at `maxIdleTotal` (`state` undefined).
   */
  reclaimFor(state: State.PoolState<any> | undefined): void {
    let victim: PoolShell<A, E> | undefined
    let oldest = Infinity
    for (const [other, { shell }] of this.byState) {
      if (other === state) continue
      const item = State.oldestIdle(other)
      if (item !== undefined && item.idleSince < oldest && other.items.size > other.config.min) {
        oldest = item.idleSince
        victim = shell
      }
    }
    victim?.apply((out) => State.reclaim(victim.state, out))
  }

  /** Housekeeping of every key, then removal of keys unused for `idleKeyTimeout`. */
  housekeep(): Effect.Effect<number> {
    return Effect.suspend(() => {
      const passes: Array<Effect.Effect<number>> = []
      for (const [, shell] of this.shells) passes.push(shell.housekeep())
      return Effect.map(Effect.all(passes), (nexts) => {
        const now = this.clock.unsafeCurrentTimeMillis()
        let next = Math.min(State.HOUSEKEEPING_MAX_MILLIS, this.idleKeyTimeout, ...nexts)
        for (const [key, shell] of [...this.shells]) {
          if (!State.unused(shell.state)) {
            this.emptySince.delete(shell)
            continue
          }
          const since = this.emptySince.get(shell)
          if (since === undefined) {
            this.emptySince.set(shell, now)
          } else if (now - since >= this.idleKeyTimeout) {
            this.remove(key, shell)
          } else {
            next = Math.min(next, since + this.idleKeyTimeout - now)
          }
        }
        return Math.max(1, next)
      })
    })
  }

  private remove(key: K, shell: PoolShell<A, E>): void {
    const state = shell.state
    for (const name of Object.keys(this.retired) as Array<keyof Retired>) this.retired[name] += state[name]
    MutableHashMap.remove(this.shells, key)
    this.byState.delete(state)
    this.emptySince.delete(shell)
    shell.refreshMetrics()
    state.closed = true
  }

  healthCheck(check: (item: A) => Effect.Effect<unknown, unknown>, suspends: (error: unknown) => boolean, timeout: number | undefined): Effect.Effect<void> {
    return Effect.suspend(() =>
      Effect.forEach([...this.shells].map(([, shell]) => shell), (shell) => shell.healthCheck(check, suspends, timeout), {
        concurrency: "unbounded",
        discard: true
      })
    )
  }

  refreshMetrics(): void {
    for (const [, shell] of this.shells) shell.refreshMetrics()
  }

  readonly shutdown: Effect.Effect<void> = Effect.suspend(() => {
    this.closed = true
    return Effect.forEach([...this.shells].map(([, shell]) => shell), (shell) => shell.shutdown, {
      concurrency: "unbounded",
      discard: true
    })
  })
}

/** Makes a keyed pool and starts its background work in the current scope. */
export const makeKeyed = <K, A, E, R>(
  options: KeyedOptions<K, A, E, R>
): Effect.Effect<KeyedPoolShell<K, A, E>, PoolConfigError, Scope.Scope | R> =>
  Effect.gen(function*() {
    // every option read once, into a copy (a getter that throws is that option's error)
    const input = (yield* OptionCheck.run(OptionCheck.nameOf(options, "pool"), (check) => check.options(options))) as unknown as typeof options
    const healthCheck = yield* checkOptions(input, "function", ["maxPerKey", "maxTotal", "maxIdleTotal", "idleKeyTimeout"], { max: "maxPerKey" })
    const config = yield* configOf({ ...input, max: input.maxPerKey }, "maxPerKey")
    const { maxTotal, maxIdleTotal, idleKeyTimeout } = yield* parseKeyedLimits(config.name, input)
    const runtime = yield* Effect.runtime<R>()
    const clock = yield* Effect.clock
    const keyed = new KeyedPoolShell<K, A, E>(config, maxTotal, maxIdleTotal, idleKeyTimeout, input, runtime as Runtime<never>, clock)
    yield* startBackground(keyed, healthCheck, runtime)
    return keyed
  })
