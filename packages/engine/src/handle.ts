/**
 * The kind-facing handle of one pooled item (each edition's `Pool.ItemHandle`), and the index
 * that finds an item by its value without a scan — Effect-free, generic over the edition's item
 * scope (`S`), so both cores share one implementation.
 *
 * A handle is made before its item is created and given to `acquire`, so a resource can tell
 * its own pool "I am broken" (`invalidate()`) from any callback of its own — a socket's `close`
 * event, a channel's state change, a thread's `exit` — with no pool reference to thread
 * through and no Effect to run.
 *
 * @example
 * ```ts
 * import { ItemHandleImpl, ValueIndex } from "@effect-pool/engine/handle"
 *
 * const owner = { invalidate: () => {}, evictIdle: () => {}, hold: () => {}, unhold: () => {} }
 * const handle = new ItemHandleImpl<string, "scope">(owner, "scope")
 * handle.invalidate() // before the item exists: it is destroyed as soon as it is created
 * console.log(handle.invalidated, handle.id) // true -1
 * const index = new ValueIndex<string>()
 * console.log(index.find("conn")) // undefined
 * ```
 * @since 0.1.0
 */
import type * as State from "./state.js"

/** What a handle needs of its pool's shell. */
export interface HandleOwner<A> {
  invalidate(item: State.Item<A>): void
  evictIdle(): void
  hold(item: State.Item<A>): void
  unhold(item: State.Item<A>): void
}

/** The handle of one item, given to `acquire` before the item exists (`S`: the edition's item scope). */
export class ItemHandleImpl<A, S = unknown> {
  /** Set once the creation succeeded; the state machine's record of the item. */
  item: State.Item<A> | undefined = undefined
  /** `invalidate()` was called before the item existed: it is destroyed as soon as it is. */
  early = false

  constructor(
    readonly owner: HandleOwner<A>,
    /** The item's scope (the edition's): what `acquire` opened is released when it closes. */
    readonly scope: S
  ) {}

  get id(): number {
    return this.item === undefined ? -1 : this.item.id
  }

  get borrowers(): number {
    return this.item === undefined ? 0 : this.item.borrowers
  }

  get uses(): number {
    return this.item === undefined ? 0 : this.item.uses
  }

  get idleSince(): number {
    return this.item === undefined ? Number.NaN : this.item.idleSince
  }

  get invalidated(): boolean {
    const item = this.item
    return this.early || (item !== undefined && (item.invalid || item.destroyed))
  }

  invalidate(): void {
    if (this.item === undefined) this.early = true
    else this.owner.invalidate(this.item)
  }

  evictIdle(): void {
    this.owner.evictIdle()
  }

  /** Out of rotation, alive, until `resume()` (before the item exists: nothing). */
  suspend(): void {
    if (this.item !== undefined) this.owner.hold(this.item)
  }

  resume(): void {
    if (this.item !== undefined) this.owner.unhold(this.item)
  }
}

/** The handle of an item (every item the shell creates has one). */
export const handleOf = <A, S = unknown>(item: State.Item<A>): ItemHandleImpl<A, S> => item.handle as ItemHandleImpl<A, S>

/**
 * Live items by value, for `Pool.invalidate(pool, value)`: one lookup, not a scan. One index per
 * `Pool`, one shared by every key of a `KeyedPool`. Two live items with the same value (an
 * `acquire` that returns one shared object) fall back to a scan of the rare duplicates.
 */
export class ValueIndex<A> {
  private readonly byValue = new Map<A, State.Item<A>>()
  private readonly duplicates = new Set<State.Item<A>>()

  add(item: State.Item<A>): void {
    if (this.byValue.has(item.value)) this.duplicates.add(item)
    else this.byValue.set(item.value, item)
  }

  remove(item: State.Item<A>): void {
    if (this.duplicates.delete(item)) return
    if (this.byValue.get(item.value) !== item) return
    this.byValue.delete(item.value)
    for (const other of this.duplicates) {
      if (other.value === item.value) {
        this.duplicates.delete(other)
        this.byValue.set(other.value, other)
        return
      }
    }
  }

  find(value: A): State.Item<A> | undefined {
    return this.byValue.get(value)
  }

  /** Invalidates the live item holding `value`, if any, in whichever pool of the index holds it. */
  invalidate(value: A): void {
    const item = this.byValue.get(value)
    if (item !== undefined) handleOf(item).invalidate()
  }
}
