/**
 * A pool shell's state as the public `PoolStats` snapshot (the engine's `snapshot`).
 *
 * @internal
 */
import { snapshot } from "@effect-pool/engine/stats"
import type { PoolStats } from "../Pool.js"
import type { PoolShell } from "./shell.js"

export const statsOf = (shell: PoolShell<any, any>): PoolStats => snapshot(shell.state)
