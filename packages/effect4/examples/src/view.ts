/**
 * The live terminal view on Effect 4: rows redrawn in place a few times a second on a TTY, plain
 * lines once a second otherwise (CI logs, pipes). The rows themselves are the shared text.ts's.
 */
import { Effect, Schedule } from "effect"
import { type Panel, renderer } from "../../../../examples/dist/app/text.js"

export type { Panel } from "../../../../examples/dist/app/text.js"

/** Renders the panels until interrupted; one last render when it ends. */
export const live = (panels: ReadonlyArray<Panel>): Effect.Effect<never> => {
  const { render: draw, tty } = renderer(panels)
  const render = Effect.sync(draw)
  return Effect.repeat(render, Schedule.spaced(tty ? "100 millis" : "1 second")).pipe(
    Effect.andThen(Effect.never),
    Effect.ensuring(render)
  )
}
