/**
 * A LISTEN/NOTIFY channel name, checked before anything is borrowed or sent: a string, no NUL
 * (the protocol's string terminator: the server refuses the message as malformed and ends the
 * session — the one every listener shares), at most 63 UTF-8 bytes (Postgres' identifier limit:
 * a longer LISTEN name is silently truncated while NOTIFY refuses it). A pure decision, no driver
 * import.
 *
 * @example
 * ```ts
 * import { channelProblem } from "@effect-pool/engine/pg/channel"
 *
 * channelProblem("orders") // undefined: fine
 * channelProblem("a\u0000b") // "must not contain a NUL character"
 * channelProblem("c".repeat(64)) // "must not exceed 63 UTF-8 bytes (Postgres' name limit), got 64"
 * ```
 * @since 0.1.0
 */

const encoder = new TextEncoder()

/** Why `channel` cannot be a channel name (completing "channel …"), or `undefined` when it can. */
export const channelProblem = (channel: unknown): string | undefined => {
  if (typeof channel !== "string") return `must be a string, got ${channel === null ? "null" : typeof channel}`
  if (channel.length === 0) return "must not be empty"
  if (channel.includes("\u0000")) return "must not contain a NUL character"
  const bytes = encoder.encode(channel).byteLength
  if (bytes > 63) return `must not exceed 63 UTF-8 bytes (Postgres' name limit), got ${bytes}`
  return undefined
}
