export default async (x) => x + 1
export async function square(n) { return n * n }