/**
 * Per-channel stats.
 *
 * @internal
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
