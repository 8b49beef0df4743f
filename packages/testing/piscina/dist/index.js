// piscina's fixtures `require('../../dist')`: in piscina's repository that is piscina's dist/index.js
// (`move`, `isWorkerThread`, `workerData`, `Piscina`, …). From packages/testing/piscina/test/fixtures/ it is this
// folder: the installed piscina's dist/index.js (its `exports` map hides the subpath, so by path).
const { dirname, join } = require("node:path")
module.exports = require(join(dirname(require.resolve("piscina")), "index.js"))
