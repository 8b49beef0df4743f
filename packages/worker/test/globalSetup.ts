/** Removes the worker files earlier runs wrote (a test process may be ended before it cleans up). */
import { removeWorkerFiles } from "@effect-pool/testing"

export default function setup() {
  removeWorkerFiles(new URL("./.workers/", import.meta.url))
}
