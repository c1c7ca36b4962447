/**
 * CI's proof that the package works from outside this repository, as a team would use it:
 *
 *   1. `npm pack` (which builds lib/), then publint and @arethetypeswrong/cli on the tarball;
 *   2. a copy of examples/orders-app in a temporary folder, the tarball installed into it;
 *   3. there: `tsc` (strict, NodeNext), its unit test, `node infra/app.ts` without AWS credentials
 *      (the template checked: nodejs24.x, the layer attached);
 *   4. its handler once through `lkc run --handler` (the installed `lkc`) against a real Kafka
 *      broker and the DynamoDB API server (the local stack the tests use), asserting the orders it
 *      processed, then again with nothing new; and `lkc demo`, which needs a clone of this
 *      repository, saying so (exit 2) instead of failing on a module the package does not ship.
 *
 *   node scripts/check-package.ts     (npm run check:package; .ci/run runs it)
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { createSender, sampleMessages } from '../src/kafka/topics.ts'
import { startLocalStack } from '../src/local/local-stack.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const started = performance.now()
const work = mkdtempSync(join(tmpdir(), 'lkc-package-check-'))
// Node.js 24 from the repository first, as npm scripts have it: the example runs on it too.
const path = [join(root, 'node_modules/.bin'), process.env.PATH ?? ''].join(delimiter)
/**
 * The machine's environment (its CA bundle, proxies, npm's registry settings in HOME), without
 * what would make the check pass for the wrong reason or fail for one of this repository's: no
 * AWS credentials or profile (synthesis must need none), no `npm run` lifecycle variables.
 */
const baseEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('npm_') && (!key.startsWith('AWS_') || key === 'AWS_CA_BUNDLE'),
    ),
  ),
  PATH: path,
  HOME: process.env.HOME ?? tmpdir(),
}
let failures = 0
let passes = 0

function say(message: string): void {
  process.stdout.write(`[package] ${message}\n`)
}

function check(condition: boolean, what: string, detail = ''): void {
  if (condition) {
    passes++
    say(`ok    ${what}`)
  } else {
    failures++
    say(`FAIL  ${what}${detail ? `\n${detail}` : ''}`)
  }
}

async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  const at = performance.now()
  const result = await action()
  say(`${name} (${((performance.now() - at) / 1000).toFixed(1)} s)`)
  return result
}

async function sh(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? baseEnv,
      maxBuffer: 64 * 1024 * 1024,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? String(error),
    }
  }
}

async function main(): Promise<void> {
  // 1. The tarball, and the two linters on it.
  const packed = await step('packed the package (npm pack, which builds lib/)', () =>
    sh('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: root }),
  )
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`)
  const [pack] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{
    filename: string
    size: number
    unpackedSize: number
    files: Array<{ path: string }>
  }>
  const tarball = join(work, pack!.filename)
  say(
    `tarball ${pack!.filename}: ${pack!.files.length} files, ${(pack!.size / 1024).toFixed(0)} KiB (${(pack!.unpackedSize / 1024).toFixed(0)} KiB unpacked)`,
  )
  const strays = pack!.files.filter((file) => /^(test|bench|\.ci|scripts|examples|tools)\//.test(file.path))
  check(
    strays.length === 0,
    'no test, bench, script, example or CI file in the tarball',
    strays.map((f) => f.path).join('\n'),
  )
  const publint = await sh(process.execPath, [join(root, 'node_modules/publint/src/cli.js'), tarball], {
    cwd: root,
  })
  check(
    publint.code === 0 && /All good/.test(publint.stdout),
    'publint: no error',
    publint.stdout + publint.stderr,
  )
  const attw = await sh(
    process.execPath,
    [join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--profile', 'esm-only'],
    { cwd: root },
  )
  check(attw.code === 0, '@arethetypeswrong/cli (ESM only): no problem', attw.stdout + attw.stderr)

  // 2. A team's project: the example, copied, the tarball installed.
  const app = join(work, 'orders-app')
  cpSync(join(root, 'examples/orders-app'), app, {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|cdk\.out)$/.test(source),
  })
  const installed = await step("installed the tarball and the example's dependencies", () =>
    sh('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: app,
    }),
  )
  if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stderr}`)

  // 3. Type-check, unit test, synthesis without credentials.
  const tsc = await step('tsc', () =>
    sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: app }),
  )
  check(tsc.code === 0, 'tsc -p . (strict, NodeNext): no error', tsc.stdout + tsc.stderr)
  const unit = await step('unit test', () =>
    sh(process.execPath, ['--test', '--test-reporter=tap', 'test/orders.test.ts'], { cwd: app }),
  )
  check(unit.code === 0 && /# pass 2/.test(unit.stdout), 'its unit test: 2 passed', unit.stdout + unit.stderr)
  const synth = await step('synthesized', () =>
    sh(process.execPath, ['infra/app.ts'], {
      cwd: app,
      env: { ...baseEnv, CDK_OUTDIR: join(app, 'cdk.out') },
    }),
  )
  check(synth.code === 0, 'node infra/app.ts without AWS credentials', synth.stderr)
  const templateFile = join(app, 'cdk.out/OrdersApp.template.json')
  if (existsSync(templateFile)) {
    const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
    }
    const resources = Object.values(template.Resources)
    const fn = resources.find((resource) => resource.Type === 'AWS::Lambda::Function')
    const layers = resources.filter((resource) => resource.Type === 'AWS::Lambda::LayerVersion')
    check(
      fn?.Properties.Runtime === 'nodejs24.x' &&
        fn.Properties.Handler === 'index.handler' &&
        Array.isArray(fn.Properties.Layers) &&
        fn.Properties.Layers.length === 1 &&
        layers.length === 1,
      'the template: a nodejs24.x function with the Kafka client layer attached',
      JSON.stringify(fn?.Properties, null, 2),
    )
    const assets = readdirSync(join(app, 'cdk.out')).filter((name) => name.startsWith('asset.'))
    const bundle = assets
      .map((name) => join(app, 'cdk.out', name, 'index.mjs'))
      .find((file) => existsSync(file))
    check(
      bundle !== undefined && readFileSync(bundle, 'utf8').includes('not an order'),
      "the function's bundle holds the team's processor",
    )
  } else {
    check(false, 'the template exists', templateFile)
  }

  // 4. The handler once, through the installed lkc, against a real broker and DynamoDB.
  const stack = await step('started Kafka and the DynamoDB API', () =>
    startLocalStack({ topic: 'orders', partitions: 3 }),
  )
  try {
    const sender = createSender([stack.broker.bootstrapServers])
    try {
      await sender.send('orders', sampleMessages(12))
    } finally {
      await sender.close()
    }
    const env = {
      ...baseEnv,
      ...stack.env,
      LOG_LEVEL: 'INFO',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    }
    const lkc = join(app, 'node_modules/.bin/lkc')
    const first = await step('lkc run --handler ./src/handler.ts', () =>
      sh(lkc, ['run', '--handler', './src/handler.ts'], { cwd: app, env }),
    )
    const orders = first.stdout
      .split('\n')
      .map((line) => /^order (\d+): (\d+) x (\w+)/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
    say(
      `its processor printed ${orders.length} orders; lkc said: ${first.stderr.split('\n').find((line) => line.includes('Run summary')) ?? '(no summary)'}`,
    )
    check(first.code === 0, 'lkc run exited 0', first.stderr)
    check(
      orders
        .map((match) => Number(match[1]))
        .sort((a, b) => a - b)
        .join(',') === Array.from({ length: 12 }, (_, index) => index).join(','),
      'the processor handled orders 0 to 11, each once',
      first.stdout,
    )
    check(first.stderr.includes('Run summary: 12 message(s) from orders'), 'the summary counts 12 messages')
    const second = await sh(lkc, ['run', '--handler', './src/handler.ts'], { cwd: app, env })
    check(
      second.code === 0 &&
        second.stderr.includes('Run summary: 0 message(s)') &&
        !/^order /m.test(second.stdout),
      'run again: the offsets were saved, nothing is processed twice',
      second.stderr,
    )
    const demo = await sh(lkc, ['demo'], { cwd: app, env })
    check(
      demo.code === 2 &&
        demo.stderr.includes('runs in a clone of the lambda-kafka-consumer repository') &&
        !demo.stderr.includes('ERR_MODULE_NOT_FOUND'),
      'lkc demo from the package: exit 2, it runs in a clone of the repository (and says what to run instead)',
      demo.stderr,
    )
  } finally {
    await stack.stop()
  }
}

try {
  await main()
} catch (error) {
  failures++
  say(`FAIL  ${error instanceof Error ? error.message : String(error)}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
process.stdout.write(`package: ${passes} passed, ${failures} failed\n`)
process.exitCode = failures > 0 ? 1 : 0
