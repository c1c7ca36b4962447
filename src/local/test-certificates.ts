/**
 * TLS material for the local secured broker, made with the JDK's `keytool` (no OpenSSL needed):
 * a test certificate authority, the broker's certificate signed by it (for `localhost`), a
 * client certificate signed by it (for mutual TLS), and a second, unrelated CA to show what a
 * wrong CA bundle does. For tests and local trials only: the keys are not protected.
 *
 * The client's private key must be PEM for Node.js, and keytool cannot export private keys, so
 * the client key pair is made by Node.js and only its certificate request is signed by keytool.
 */
import { execFile } from 'node:child_process'
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { LambdaKafkaConsumerError } from '../errors.ts'

export interface TestCertificates {
  readonly dir: string
  /** PEM of the test CA that signed the broker's and the client's certificates. */
  readonly caFile: string
  /** PEM of another CA, which signed nothing here: a wrong CA bundle. */
  readonly otherCaFile: string
  /** The client certificate (PEM, signed by the CA) and its private key (PEM, PKCS#8). */
  readonly clientCertFile: string
  readonly clientKeyFile: string
  /** The broker's key store (PKCS#12: its key and certificate chain) and trust store (the CA). */
  readonly brokerKeyStore: string
  readonly brokerTrustStore: string
  /** The password of both stores. */
  readonly storePassword: string
  /** The name in the broker's certificate; connecting by any other name fails the TLS check. */
  readonly brokerHostName: string
}

export class TestCertificatesError extends LambdaKafkaConsumerError {}

/** The JVM flags that make each short keytool run start fast on a small machine. */
const FAST_JVM = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC', '-J-Xshare:auto']
const KEY = ['-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '3650']

export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  const password = randomBytes(12).toString('hex')
  const files = {
    caStore: join(dir, 'ca.p12'),
    otherCaStore: join(dir, 'other-ca.p12'),
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    brokerKeyStore: join(dir, 'broker.p12'),
    brokerTrustStore: join(dir, 'truststore.p12'),
    brokerCsr: join(dir, 'broker.csr'),
    brokerCert: join(dir, 'broker.pem'),
    clientCsr: join(dir, 'client.csr'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
  }
  const store = (path: string) => ['-storetype', 'PKCS12', '-keystore', path, '-storepass', password]
  const keytool = (...args: string[]) => run('keytool', [...FAST_JVM, ...args])
  const brokerHostName = 'localhost'

  const client = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  await writeFile(
    files.clientKeyFile,
    client.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    { mode: 0o600 },
  )
  await writeFile(files.clientCsr, certificateRequest('lkc-test-client', client.privateKey, client.publicKey))

  await Promise.all([
    keytool(
      '-genkeypair',
      '-alias',
      'ca',
      ...KEY,
      '-dname',
      'CN=lkc-test-ca',
      '-ext',
      'bc:c',
      ...store(files.caStore),
    ),
    keytool(
      '-genkeypair',
      '-alias',
      'ca',
      ...KEY,
      '-dname',
      'CN=lkc-other-ca',
      '-ext',
      'bc:c',
      ...store(files.otherCaStore),
    ),
    keytool(
      '-genkeypair',
      '-alias',
      'broker',
      ...KEY,
      '-dname',
      `CN=${brokerHostName}`,
      ...store(files.brokerKeyStore),
    ),
  ])
  await Promise.all([
    keytool('-exportcert', '-rfc', '-alias', 'ca', '-file', files.caFile, ...store(files.caStore)),
    keytool('-exportcert', '-rfc', '-alias', 'ca', '-file', files.otherCaFile, ...store(files.otherCaStore)),
    keytool('-certreq', '-alias', 'broker', '-file', files.brokerCsr, ...store(files.brokerKeyStore)),
  ])
  const signWithCa = (request: string, certificate: string, ...extensions: string[]) =>
    keytool(
      '-gencert',
      '-rfc',
      '-alias',
      'ca',
      '-validity',
      '3650',
      '-infile',
      request,
      '-outfile',
      certificate,
      ...extensions.flatMap((extension) => ['-ext', extension]),
      ...store(files.caStore),
    )
  const importCertificate = (alias: string, file: string, storeFile: string) =>
    keytool('-importcert', '-noprompt', '-alias', alias, '-file', file, ...store(storeFile))
  await Promise.all([
    signWithCa(files.brokerCsr, files.brokerCert, `SAN=dns:${brokerHostName}`, 'EKU=serverAuth'),
    signWithCa(files.clientCsr, files.clientCertFile, 'EKU=clientAuth'),
    importCertificate('ca', files.caFile, files.brokerTrustStore),
    importCertificate('ca', files.caFile, files.brokerKeyStore),
  ])
  // The CA-signed certificate replaces the broker's self-signed one, as a chain up to the CA.
  await importCertificate('broker', files.brokerCert, files.brokerKeyStore)

  return {
    dir,
    caFile: files.caFile,
    otherCaFile: files.otherCaFile,
    clientCertFile: files.clientCertFile,
    clientKeyFile: files.clientKeyFile,
    brokerKeyStore: files.brokerKeyStore,
    brokerTrustStore: files.brokerTrustStore,
    storePassword: password,
    brokerHostName,
  }
}

async function run(command: string, args: readonly string[]): Promise<void> {
  try {
    await promisify(execFile)(command, [...args], { timeout: 60_000 })
  } catch (error) {
    const stderr =
      typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr) : ''
    const stdout =
      typeof error === 'object' && error !== null && 'stdout' in error ? String(error.stdout) : ''
    throw new TestCertificatesError(
      `${command} ${args.find((arg) => !arg.startsWith('-J')) ?? ''} failed while making the test certificates: ` +
        `${(stderr || stdout).trim() || String(error)}. keytool comes with Java 17+ (needed for the local broker).`,
      { cause: error },
    )
  }
}

/**
 * A PKCS#10 certificate request (PEM) for `commonName`, signed with the given EC key: the few
 * DER structures of RFC 2986, since Node.js can make keys but not certificate requests.
 */
export function certificateRequest(commonName: string, privateKey: KeyObject, publicKey: KeyObject): string {
  const commonNameOid = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03])
  const ecdsaWithSha256 = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])
  const subject = der(0x30, der(0x31, der(0x30, commonNameOid, der(0x0c, Buffer.from(commonName, 'utf8')))))
  const info = der(
    0x30,
    der(0x02, Buffer.from([0])),
    subject,
    publicKey.export({ format: 'der', type: 'spki' }),
    Buffer.from([0xa0, 0x00]),
  )
  const signature = sign('sha256', info, { key: privateKey, dsaEncoding: 'der' })
  const request = der(0x30, info, der(0x30, ecdsaWithSha256), der(0x03, Buffer.from([0]), signature))
  const base64 = request.toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE REQUEST-----\n${base64}-----END CERTIFICATE REQUEST-----\n`
}

function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents)
  let length: Buffer
  if (body.length < 0x80) {
    length = Buffer.from([body.length])
  } else {
    const bytes: number[] = []
    for (let remaining = body.length; remaining > 0; remaining >>= 8) bytes.unshift(remaining & 0xff)
    length = Buffer.from([0x80 | bytes.length, ...bytes])
  }
  return Buffer.concat([Buffer.from([tag]), length, body])
}
