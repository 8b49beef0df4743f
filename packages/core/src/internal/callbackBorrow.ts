/**
 * A borrow without a fiber, as an object (`Pool.Borrow`): for kinds whose I/O is callback-based.
 * The borrow itself (waiting, held, returned, `retry()`) is the engine's `Borrow.CallbackBorrow`,
 * one for both editions; this file gives it the edition's shell, exits and item handle.
 *
 * @internal
 */
import { Borrow } from "@effect-pool/engine"
import type * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { handleOf, type ItemHandleImpl } from "./handle.js"
import type { PoolShell } from "./shell.js"

/** The exits a callback borrow returns its item with, in this edition's `Exit`. */
const exits: Borrow.BorrowExits<Exit.Exit<unknown, unknown>> = {
  done: Exit.void,
  died: (thrown) => Exit.die(thrown),
  interrupted: () => Exit.interrupt(FiberId.none)
}

/** The engine's callback borrow on this edition's shell, with the held item's handle. */
export class CallbackBorrow<A, K = never> extends Borrow.CallbackBorrow<A, K, Exit.Exit<unknown, unknown>, Cause.Cause<unknown>> {
  /** The held item's handle (`undefined` unless held). */
  get handle(): ItemHandleImpl<A> | undefined {
    return this.heldItem === undefined ? undefined : handleOf(this.heldItem)
  }
}

/** Starts a callback borrow of `shell` (the one body of `Pool.unsafeBorrow` and `KeyedPool.unsafeBorrow`). */
export const startBorrow = <A, K, B>(
  shell: PoolShell<A, any>,
  callback: (borrow: B | undefined, failure: Cause.Cause<any> | undefined) => void,
  options: { readonly retries?: number | undefined } | undefined,
  key: K
): B & CallbackBorrow<A, K> =>
  new CallbackBorrow<A, K>(
    shell as PoolShell<A, unknown>,
    exits,
    shell.borrowSite(),
    callback as unknown as (borrow: Borrow.CallbackBorrow<A, K, Exit.Exit<unknown, unknown>, Cause.Cause<unknown>> | undefined, failure: Cause.Cause<unknown> | undefined) => void,
    Borrow.retriesOf(options),
    key
  ).start() as B & CallbackBorrow<A, K>
