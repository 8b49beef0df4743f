/**
 * The pool's millisecond clock: Effect 4's default (real-time) `Clock` read once per synchronous
 * stretch (the engine's `perTick`); any other `Clock` — `TestClock`, a user's — read every time.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import { perTick } from "@effect-pool/engine/clock"

/** The method every real-time clock of Effect 4 reads the time with. */
const realTime = Context.get(Context.empty(), Clock.Clock).currentTimeMillisUnsafe

/** A `now()` for a pool running with `clock`. */
export const millisOf = (clock: Clock.Clock): (() => number) =>
  clock.currentTimeMillisUnsafe === realTime ? perTick(Date.now) : () => clock.currentTimeMillisUnsafe()
