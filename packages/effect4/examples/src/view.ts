/**
 * The live terminal view on Effect 4: rows redrawn in place a few times a second on a TTY, plain
 * lines once a second otherwise (CI logs, pipes). The rows themselves are the shared text.ts's.
 */
import { Effect, Schedule } from "effect"

export interface Panel {
  readonly title: string
  readonly rows: () => ReadonlyArray<string>
}

const tty = process.stdout.isTTY === true

/** Renders the panels until interrupted; one last render when it ends. */
export const live = (panels: ReadonlyArray<Panel>): Effect.Effect<never> => {
  let drawn = 0
  const render = Effect.sync(() => {
    const lines = panels.flatMap((panel) => [`── ${panel.title}`, ...panel.rows().map((row) => `   ${row}`)])
    if (tty) {
      const up = drawn > 0 ? `\x1b[${drawn}A` : ""
      process.stdout.write(up + lines.map((line) => `\x1b[2K${line}\n`).join(""))
      drawn = lines.length
    } else {
      process.stdout.write(`${lines.join("\n")}\n`)
    }
  })
  return Effect.repeat(render, Schedule.spaced(tty ? "100 millis" : "1 second")).pipe(
    Effect.andThen(Effect.never),
    Effect.ensuring(render)
  )
}
