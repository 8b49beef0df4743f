/**
 * The pool's millisecond clock: Effect's default (real-time) `Clock` read once per synchronous
 * stretch (the engine's `perTick`); any other `Clock` — `TestClock`, a user's — read every time.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import { perTick } from "@effect-pool/engine/clock"

/** The method every real-time clock of Effect 3 reads the time with. */
const realTime = Clock.make().unsafeCurrentTimeMillis

/** A `now()` for a pool running with `clock`. */
export const millisOf = (clock: Clock.Clock): (() => number) =>
  clock.unsafeCurrentTimeMillis === realTime ? perTick(Date.now) : () => clock.unsafeCurrentTimeMillis()
