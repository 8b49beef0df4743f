/** Removes the worker files earlier runs wrote (a test process may be ended before it cleans up). */
import { rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

export default function setup() {
  rmSync(fileURLToPath(new URL("./.workers/", import.meta.url)), { recursive: true, force: true })
}
