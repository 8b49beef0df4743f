// piscina's fixtures `import Piscina from '../..'`: in piscina's repository that is piscina's own
// package (main ./dist/main.js). From packages/testing/piscina/test/fixtures/ it is this folder, whose package.json
// points here: the installed piscina's main export.
module.exports = require("piscina")
