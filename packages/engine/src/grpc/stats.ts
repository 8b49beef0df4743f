/**
 * Per-channel stats of a {@link PooledChannel} (its calls running now are its pool item's
 * borrower count).
 *
 * @example
 * ```ts
 * import type { PooledChannel } from "@effect-pool/engine/grpc/channel"
 * import { channelStats } from "@effect-pool/engine/grpc/stats"
 *
 * declare const channel: PooledChannel
 * const { state, activeCalls } = channelStats(channel) // e.g. "READY", 0
 * ```
 * @since 0.1.0
 */
import * as grpc from "@grpc/grpc-js"
import type { PooledChannel } from "./channel.js"

const S = grpc.connectivityState

/** Per channel, for stats. */
export const channelStats = (pooled: PooledChannel) => ({
  state: S[pooled.state()] as keyof typeof S,
  activeCalls: pooled.item?.borrowers ?? 0,
  ageMillis: Date.now() - pooled.createdAt,
  notServing: pooled.notServing
})
