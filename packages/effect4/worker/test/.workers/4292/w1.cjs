
module.exports = ({ a, b }) => a + b
module.exports.square = (n) => n * n
