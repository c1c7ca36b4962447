/**
 * The repository's way to build the Kafka-client layer into a folder (the bench, the layer test
 * and scripts/measure-invocations.ts use it): the same builder the construct runs at synthesis,
 * infra/kafka-client-layer/build-kafka-client-layer.ts, which says what the layer holds and why.
 *
 *   node scripts/build-layer.ts [--arch arm64|x86_64] [--out <folder>]
 *     -> dist/layer/<arch>/nodejs/node_modules/...
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  buildKafkaClientLayer,
  LAYER_BUNDLE_FILE,
  LAYER_PACKAGE,
  type LayerArchitecture,
  type LayerBuild,
} from '../infra/kafka-client-layer/build-kafka-client-layer.ts'

export { LAYER_BUNDLE_FILE, LAYER_PACKAGE, type LayerArchitecture, type LayerBuild }

const root = resolve(import.meta.dirname, '..')

export interface LayerOptions {
  /** Lambda's name for the CPU: `arm64` (default) or `x86_64`. */
  readonly architecture?: LayerArchitecture
  /** Default: dist/layer/<architecture>. */
  readonly outDir?: string
  /** Rebuild even when a build from the same inputs is cached. */
  readonly force?: boolean
}

export function buildLayer(options: LayerOptions = {}): Promise<LayerBuild> {
  const architecture = options.architecture ?? 'arm64'
  return buildKafkaClientLayer({
    architecture,
    outDir: options.outDir ?? resolve(root, 'dist/layer', architecture),
    ...(options.force !== undefined && { force: options.force }),
  })
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { arch: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
  })
  const layer = await buildLayer({
    architecture: (values.arch ?? 'arm64') as LayerArchitecture,
    ...(values.out && { outDir: resolve(values.out) }),
    force: values.force ?? false,
  })
  process.stdout.write(
    `${layer.built ? 'Built' : 'Reused'} the layer ${layer.dir}: ${LAYER_PACKAGE}@${layer.version}, ` +
      `${layer.packages.length} packages, CRC32C ${layer.nativeCrc32Package ? `native (${layer.nativeCrc32Package})` : 'WebAssembly fallback'}\n`,
  )
}
