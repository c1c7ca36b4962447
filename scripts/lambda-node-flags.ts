/**
 * Node's heap flags as Lambda's Node.js runtime starts it for a function of `memoryMb`: its
 * /var/runtime/bootstrap passes them on Node's command line, a tenth of the memory for the young
 * generation (two semi-spaces), the rest for the old one. Command-line flags take precedence
 * over NODE_OPTIONS, so a function cannot change them through its environment. The benchmark
 * and `measure-invocations.ts` start Node with them to measure what Lambda would see.
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10)
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`]
}
