/**
 * Typechecks every JSDoc example of the public modules (`packages/*\/src/**\/*.ts` outside `internal/`
 * folders — e.g. the engine's `src/worker/*.ts` subpaths —, or `<dir>/*\/src/…` with a directory
 * argument: the Effect 4 root passes `.`) against the built packages: each ```ts
 * block becomes a file under the current root's node_modules/.cache/doc-examples, and that root's
 * tsc must accept them all. Run by `npm run check`.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"

const root = process.cwd()
const out = join(root, "node_modules", ".cache", "doc-examples")
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

let count = 0
/** The `.ts` files of `src` and its folders, `internal/` left out, as paths relative to `src`. */
const publicModules = (src: string, folder = ""): Array<string> =>
  readdirSync(join(src, folder), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? entry.name === "internal" ? [] : publicModules(src, join(folder, entry.name))
      : entry.name.endsWith(".ts") ? [join(folder, entry.name)] : []
  )
const packages = process.argv[2] === undefined ? join(root, "packages") : resolve(process.argv[2])
for (const pkg of readdirSync(packages)) {
  const src = join(packages, pkg, "src")
  if (pkg.startsWith("testing") || !existsSync(src)) continue
  for (const file of publicModules(src)) {
    const text = readFileSync(join(src, file), "utf8")
    const blocks = text.matchAll(/@example\n((?:\s*\*.*\n)*?)\s*\*\/\n/g)
    let n = 0
    for (const [, block] of blocks) {
      const code = block.split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n")
      const ts = /```ts\n([\s\S]*?)```/.exec(code)?.[1]
      if (ts === undefined) continue
      writeFileSync(join(out, `${pkg}_${file.slice(0, -3).replaceAll("/", "_")}_${n++}.ts`), `export {}\n${ts}`)
      count++
    }
  }
}
writeFileSync(join(out, "tsconfig.json"), JSON.stringify({
  extends: "../../../tsconfig.base.json",
  compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, noUnusedLocals: false, noUnusedParameters: false },
  include: ["*.ts"]
}, null, 2))
if (count === 0) {
  console.log(`no JSDoc examples under ${packages}`)
  process.exit(0)
}
try {
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(out, "tsconfig.json")], { stdio: "inherit" })
  console.log(`${count} JSDoc examples typecheck`)
} catch {
  console.error(`JSDoc examples do not typecheck (files in ${out})`)
  process.exit(1)
}
