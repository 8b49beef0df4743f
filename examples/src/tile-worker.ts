/**
 * The worker module of the worker example: a 3×3 box blur over a generated RGBA tile (pixel
 * work), returning a checksum of the result. `crash` ends its thread on purpose.
 */
export interface Tile {
  readonly seed: number
  readonly size: number
  readonly passes: number
}

const generate = (seed: number, size: number): Uint8ClampedArray => {
  const pixels = new Uint8ClampedArray(size * size * 4)
  let x = seed >>> 0 || 1
  for (let i = 0; i < pixels.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    pixels[i] = x & 0xff
  }
  return pixels
}

const blur = (source: Uint8ClampedArray, size: number): Uint8ClampedArray => {
  const out = new Uint8ClampedArray(source.length)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0
        let n = 0
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy
            const xx = x + dx
            if (yy < 0 || xx < 0 || yy >= size || xx >= size) continue
            sum += source[(yy * size + xx) * 4 + c]
            n++
          }
        }
        out[(y * size + x) * 4 + c] = sum / n
      }
    }
  }
  return out
}

/** Blurs the tile `passes` times; the result's checksum. */
export default (tile: Tile): number => {
  let pixels = generate(tile.seed, tile.size)
  for (let i = 0; i < tile.passes; i++) pixels = blur(pixels, tile.size)
  let checksum = 0
  for (let i = 0; i < pixels.length; i++) checksum = (checksum * 31 + pixels[i]) >>> 0
  return checksum
}

/** Ends the thread, as a native crash or `process.exit` in a dependency would. */
export const crash = (): never => process.exit(70)
