/**
 * A live terminal view: rows redrawn in place a few times a second on a TTY, plain lines once
 * a second otherwise (CI logs, pipes).
 */
import { Effect, Schedule } from "effect"
import { type Panel, renderer } from "./app/text.js"

export type { Panel } from "./app/text.js"

/** Renders the panels until interrupted; one last render when it ends. */
export const live = (panels: ReadonlyArray<Panel>): Effect.Effect<never> => {
  const { render: draw, tty } = renderer(panels)
  const render = Effect.sync(draw)
  return Effect.repeat(render, Schedule.spaced(tty ? "100 millis" : "1 second")).pipe(
    Effect.zipRight(Effect.never),
    Effect.ensuring(render)
  )
}

export { bar } from "./app/text.js"
