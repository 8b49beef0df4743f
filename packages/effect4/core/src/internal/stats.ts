/**
 * A pool shell's state as the public `PoolStats` snapshot.
 *
 * @internal
 */
import type { PoolStats } from "../Pool.js"
import type { PoolShell } from "./shell.js"

export const statsOf = (shell: PoolShell<any, any>): PoolStats => {
  const state = shell.state
  return {
    name: state.config.name,
    size: state.items.size,
    idle: state.idle.length,
    borrowed: state.borrowers,
    waiting: state.waiters.length,
    creating: state.creating,
    suspended: state.suspended,
    destroying: state.destroying,
    min: state.config.min,
    max: state.config.max,
    created: state.created,
    destroyed: state.destroyed,
    timeouts: state.timeouts,
    failures: state.failures,
    borrows: state.borrows,
    invalidated: state.invalidated,
    closed: state.closed
  }
}
