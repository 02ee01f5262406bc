import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './ports.ts';

/**
 * A single-node KRaft Kafka broker of one test file's own: the only honest way to test a broker outage
 * (SIGKILL it, start it again on the same ports and data) without taking the shared broker away from every
 * other test. It runs from the jars scripts/backing-services.sh already resolved from Maven Central
 * (`<ETA_BACKING_DIR or .local/backing>/kafka/libs-<kafka.version of scripts/kafka/pom.xml>`), as a plain
 * `java` child process on two free ports, with its log dir, metadata dir and logs in a temp folder.
 *
 *   const broker = await startKafkaBroker({ partitions: 3 });
 *   const kafka = new Kafka({ brokers: [...broker.brokers] });
 *   await broker.kill();      // SIGKILL, like a crashed pod
 *   await broker.restart();   // same ports and data, resolves once it answers metadata again
 *   await broker.stop();      // in afterAll: SIGTERM, then the folder is removed
 *
 * With `sasl`, it also has client listeners that authenticate, as Confluent Cloud's do (there SASL PLAIN over
 * TLS with an API key and secret): SASL_PLAINTEXT, and SASL_SSL with `sasl.tls`, each offering PLAIN,
 * SCRAM-SHA-256 and SCRAM-SHA-512 for the same users. The PLAINTEXT listener stays for the helper's own
 * probe, the inter-broker traffic and a test's admin client.
 *
 *   const broker = await startKafkaBroker({ sasl: { users: { alice: 'alice-secret' }, tls: true } });
 *   const sasl = { mechanism: 'plain', username: 'alice', password: 'alice-secret' } as const;
 *   new Kafka({ brokers: [...broker.sasl!.brokers], sasl });
 *   new Kafka({ brokers: [...broker.saslSsl!.brokers], ssl: { ca: broker.saslSsl!.ca }, sasl });
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const HOW_TO_GET_JARS =
  'startKafkaBroker runs the Kafka jars that scripts/backing-services.sh resolves from Maven Central. ' +
  'From the repository root run\n  scripts/backing-services.sh up\nonce (it caches them there), then run ' +
  'the tests again (docs/runbooks/backing-services.md).';

export interface KafkaBrokerOptions {
  /** `num.partitions`: partitions of a topic created without a count (auto-created ones too). Default 1. */
  readonly partitions?: number;
  /** Maximum heap (`-Xmx`), e.g. `384m` (the default). */
  readonly heap?: string;
  /** Extra or replacing `server.properties` entries, written after the helper's own. */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
  /** More JVM flags for the broker, after the helper's own. */
  readonly jvmArgs?: readonly string[];
  /** Folder of the Kafka jars; default kafkaLibsDir(). */
  readonly libsDir?: string;
  /** Cap on each wait for the broker to answer metadata (start and restart). Default 180 s. */
  readonly readyTimeoutMs?: number;
  /** Client listeners that authenticate with SASL, besides the PLAINTEXT one (`KafkaBroker.sasl`). */
  readonly sasl?: KafkaBrokerSaslOptions;
  /**
   * Authorize with ACLs (Kafka's StandardAuthorizer): a SASL user may do only what ACLs allow it
   * (createKafkaAcls), as on a managed cluster; the PLAINTEXT listener's ANONYMOUS stays a super user, so
   * the helper, the broker itself and a test's admin client are not held to them. Default false.
   */
  readonly authorizer?: boolean;
}

export interface KafkaBrokerSaslOptions {
  /**
   * User name -> password, each of `[A-Za-z0-9._-]` (so neither needs quoting in a JAAS line or a flag):
   * PLAIN users in the listeners' JAAS config (`user_<name>="<password>"`), and SCRAM-SHA-256/512
   * credentials the storage format writes into the cluster metadata (`--add-scram`).
   */
  readonly users: Readonly<Record<string, string>>;
  /**
   * Also a SASL_SSL listener, its certificate self-signed for 127.0.0.1 (a PKCS12 keystore made with the
   * JDK's keytool, beside the `java` that runs the broker). Default false.
   */
  readonly tls?: boolean;
}

export interface KafkaBrokerListener {
  /** `['127.0.0.1:<port>']`. */
  readonly brokers: readonly string[];
  readonly port: number;
}

export interface KafkaBroker {
  /** `['127.0.0.1:<port>']`, for kafkajs's `brokers`. */
  readonly brokers: readonly string[];
  readonly port: number;
  readonly controllerPort: number;
  /** With `sasl`: the SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  readonly sasl: KafkaBrokerListener | undefined;
  /** With `sasl.tls`: the SASL_SSL listener and its self-signed certificate (PEM), the CA a client trusts. */
  readonly saslSsl: (KafkaBrokerListener & { readonly ca: string }) | undefined;
  /** The temp folder: `data/` (log dir), `metadata/` (KRaft metadata log), `logs/`, `server.properties`. */
  readonly dir: string;
  /** The running JVM's pid; undefined while it is down. */
  readonly pid: number | undefined;
  /** SIGKILL, then waits for the exit. Nothing is flushed or closed: a crash. No-op when it is down. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same ports with the same data (a running broker is first stopped with
   * SIGTERM); resolves once it answers a metadata request and lists itself as a live broker.
   */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 30 s), waits for the exit, removes the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** The last lines of the broker's server log and of its stdout/stderr, for a failing test's message. */
  logs(lines?: number): Promise<string>;
}

/** Where scripts/backing-services.sh keeps the Kafka jars of the version scripts/kafka/pom.xml pins. */
export function kafkaLibsDir(env: NodeJS.ProcessEnv = process.env): string {
  const pom = readFileSync(join(REPO, 'scripts/kafka/pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]?.trim();
  if (!version) throw new Error('cannot read kafka.version from scripts/kafka/pom.xml');
  const backing = env['ETA_BACKING_DIR']?.trim() || join(REPO, '.local/backing');
  return join(backing, 'kafka', `libs-${version}`);
}

/** A Kafka cluster id (what `kafka-storage random-uuid` prints): 16 random bytes, base64url, no padding. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // Kafka's own Uuid.randomUuid never gives one that starts with '-' (it reads as a flag).
    if (!id.startsWith('-')) return id;
  }
}

const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
const SAFE_CREDENTIAL = /^[A-Za-z0-9._-]{1,100}$/;

interface Ports {
  readonly port: number;
  readonly controllerPort: number;
  readonly saslPort: number | undefined;
  readonly saslSslPort: number | undefined;
}

interface Keystore {
  readonly path: string;
  readonly password: string;
}

/** server.properties lines of the SASL listeners: mechanisms and, per mechanism, its JAAS login module. */
function saslSettings(
  listener: string,
  users: Readonly<Record<string, string>>,
): Record<string, string | number | boolean> {
  const prefix = `listener.name.${listener.toLowerCase()}`;
  const plainUsers = Object.entries(users)
    .map(([name, password]) => ` user_${name}="${password}"`)
    .join('');
  return {
    [`${prefix}.sasl.enabled.mechanisms`]: SASL_MECHANISMS.join(','),
    [`${prefix}.plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`,
    // SCRAM's credentials live in the cluster metadata (written by the storage format), not here.
    [`${prefix}.scram-sha-256.sasl.jaas.config`]:
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`${prefix}.scram-sha-512.sasl.jaas.config`]:
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
  };
}

function serverProperties(
  dir: string,
  ports: Ports,
  opts: KafkaBrokerOptions,
  keystore: Keystore | undefined,
): string {
  const { port, controllerPort, saslPort, saslSslPort } = ports;
  const listenerList = [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
  let security: Record<string, string | number | boolean> = {};
  if (opts.sasl !== undefined && saslPort !== undefined) {
    listenerList.push(`SASL://127.0.0.1:${saslPort}`);
    protocols.push('SASL:SASL_PLAINTEXT');
    security = { ...security, ...saslSettings('SASL', opts.sasl.users) };
  }
  if (opts.sasl !== undefined && saslSslPort !== undefined && keystore !== undefined) {
    listenerList.push(`SASLSSL://127.0.0.1:${saslSslPort}`);
    protocols.push('SASLSSL:SASL_SSL');
    security = {
      ...security,
      ...saslSettings('SASLSSL', opts.sasl.users),
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': keystore.path,
      'ssl.keystore.password': keystore.password,
      'ssl.key.password': keystore.password,
      'ssl.client.auth': 'none',
    };
  }
  const listeners = listenerList.join(',');
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners,
    'advertised.listeners': listeners,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': protocols.join(','),
    ...security,
    ...(opts.authorizer === true
      ? {
          'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          'super.users': 'User:ANONYMOUS',
        }
      : {}),
    'log.dirs': join(dir, 'data'),
    'metadata.log.dir': join(dir, 'metadata'),
    'num.partitions': opts.partitions ?? 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'auto.create.topics.enable': true,
    'delete.topic.enable': true,
    // Internal topics default to 3 replicas, which one node never has.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'share.coordinator.state.topic.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    // A broker SIGKILLed and started again is refused (DUPLICATE_BROKER_REGISTRATION) until the controller
    // has fenced its old session: 9 s by default, 4 s here. Heartbeats still come 4 times within it.
    'broker.session.timeout.ms': 4_000,
    'broker.heartbeat.interval.ms': 1_000,
    // Two shared cores: few threads, and a small cleaner buffer (the default takes 128 MiB of heap).
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 2,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 2_097_152,
    ...opts.config,
  };
  return (
    '# A private test broker written by @eta/testing startKafkaBroker; the folder is removed on stop().\n' +
    Object.entries(settings)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join('\n') +
    '\n'
  );
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '(no file)');
  return `--- ${file} (last ${lines} lines)\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
}

type Ended =
  { readonly code: number | null; readonly signal: NodeJS.Signals | null } | { readonly error: Error };

function describeEnd(end: Ended): string {
  return 'error' in end
    ? `could not be started (${end.error.message}; it needs java 17 or newer on PATH)`
    : `exited (code ${end.code}, signal ${end.signal})`;
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Exit of a short tool run (keytool), with its output for the error message. */
function runTool(
  cmd: string,
  args: readonly string[],
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', (err) => resolve({ code: null, out: `${out}${err.message}` }));
    child.once('close', (code) => resolve({ code, out }));
  });
}

/**
 * A PKCS12 keystore with a key and a certificate self-signed for 127.0.0.1 (valid 7 days), made with the
 * JDK's keytool (it comes with the `java` the broker needs); answers the keystore and the certificate as PEM.
 */
async function selfSignedKeystore(dir: string): Promise<Keystore & { certificatePem: string }> {
  const path = join(dir, 'broker.p12');
  const password = randomBytes(12).toString('hex');
  const made = await runTool(
    'keytool',
    [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'EC',
      '-groupname',
      'secp256r1',
      '-sigalg',
      'SHA256withECDSA',
      '-dname',
      'CN=127.0.0.1',
      '-ext',
      'SAN=ip:127.0.0.1',
      '-validity',
      '7',
      '-storetype',
      'PKCS12',
      '-keystore',
      path,
      '-storepass',
      password,
      '-keypass',
      password,
    ],
    dir,
  );
  if (made.code !== 0) {
    throw new Error(`keytool could not make the broker's certificate (it comes with Java 17+):\n${made.out}`);
  }
  const exported = await runTool(
    'keytool',
    ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', path, '-storepass', password],
    dir,
  );
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(exported.out)?.[0];
  if (exported.code !== 0 || pem === undefined) {
    throw new Error(`keytool could not export the broker's certificate:\n${exported.out}`);
  }
  return { path, password, certificatePem: `${pem}\n` };
}

function checkSasl(sasl: KafkaBrokerSaslOptions): void {
  const users = Object.entries(sasl.users);
  if (users.length === 0) throw new TypeError('sasl.users needs at least one user');
  for (const [name, password] of users) {
    if (!SAFE_CREDENTIAL.test(name) || !SAFE_CREDENTIAL.test(password)) {
      throw new TypeError(`sasl.users: user names and passwords must match ${SAFE_CREDENTIAL.source}`);
    }
  }
}

/** Brokers whose JVM is still running, killed if the test process exits without stop(). */
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [child, dir] of live) {
      child.kill('SIGKILL');
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // The JVM may still be letting go of its files; a temp folder left behind is harmless.
      }
    }
  });
}

/** Answers when a real Kafka metadata request lists this broker as alive (KRaft lists unfenced brokers only). */
async function answersMetadata(brokers: string[], port: number): Promise<true | string> {
  const admin = new Kafka({
    clientId: 'eta-test-broker-probe',
    brokers,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
    // Silent even when KAFKAJS_LOG_LEVEL (which wins over logLevel) is set, as a test may do.
    logCreator: () => () => {},
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.some((b) => b.port === port)) return true;
    return `metadata lists brokers ${JSON.stringify(cluster.brokers)}, not :${port} yet`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function startKafkaBroker(opts: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const libs = opts.libsDir ?? kafkaLibsDir();
  // backing-services.sh writes .complete last, so a half-finished Maven copy is not taken for jars.
  if (!existsSync(join(libs, '.complete'))) {
    throw new Error(`no Kafka jars in ${libs}. ${HOW_TO_GET_JARS}`);
  }
  if (opts.sasl !== undefined) checkSasl(opts.sasl);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 180_000;
  const [port, controllerPort, saslPort, saslSslPort] = (await distinctFreePorts(
    opts.sasl === undefined ? 2 : opts.sasl.tls === true ? 4 : 3,
  )) as [number, number, number | undefined, number | undefined];
  const brokers = [`127.0.0.1:${port}`];
  const dir = await mkdtemp(join(tmpdir(), 'eta-kafka-'));
  const logsDir = join(dir, 'logs');
  const conf = join(dir, 'server.properties');
  const stdoutLog = join(logsDir, 'stdout.log');
  installExitHook();

  const logs = async (lines = 60): Promise<string> =>
    [await tail(join(logsDir, 'server.log'), lines), await tail(stdoutLog, lines)].join('\n');

  const java = (heap: string, args: readonly string[], jvmArgs: readonly string[] = []): ChildProcess => {
    // Output goes straight to a file: it survives the JVM and costs the test's event loop nothing.
    const out = openSync(stdoutLog, 'a');
    try {
      return spawn(
        'java',
        [
          '-Xms64m',
          `-Xmx${heap}`,
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${join(REPO, 'scripts/kafka/log4j2.xml')}`,
          `-Dkafka.logs.dir=${logsDir}`,
          ...jvmArgs,
          '-cp',
          join(libs, '*'),
          ...args,
        ],
        { cwd: dir, stdio: ['ignore', out, out] },
      );
    } finally {
      closeSync(out);
    }
  };

  const exitOf = (proc: ChildProcess) =>
    new Promise<Ended>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        resolve({ code: proc.exitCode, signal: proc.signalCode });
        return;
      }
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      // A spawn failure (no java on PATH) may come without an exit event.
      proc.once('error', (error) => resolve({ error }));
    });

  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let keystore: Keystore | undefined;
  let certificatePem: string | undefined;

  const launch = async (): Promise<void> => {
    const proc = java(opts.heap ?? '384m', ['kafka.Kafka', conf], opts.jvmArgs);
    child = proc;
    live.set(proc, dir);
    const ended = exitOf(proc);
    exited = ended.finally(() => live.delete(proc));

    const deadline = Date.now() + readyTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const outcome = await Promise.race([answersMetadata(brokers, port), ended]);
      if (outcome === true) return;
      if (typeof outcome === 'object') {
        child = undefined;
        throw new Error(
          `private Kafka broker in ${dir} ${describeEnd(outcome)} during start\n${await logs()}`,
        );
      }
      last = outcome;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        child = undefined;
        throw new Error(
          `private Kafka broker on ${brokers[0]} did not answer metadata within ${readyTimeoutMs} ms ` +
            `(${last})\n${await logs()}`,
        );
      }
      await sleep(250);
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined) return;
    proc.kill('SIGKILL');
    await exited;
  };

  const terminate = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined) return;
    proc.kill('SIGTERM');
    // A controlled shutdown of one combined node takes a few seconds; a hung one must not hold the test.
    const cancel = new AbortController();
    const timer = sleep(30_000, undefined, { signal: cancel.signal }).then(
      () => proc.kill('SIGKILL'),
      () => undefined,
    );
    await exited;
    cancel.abort();
    await timer;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped = true;
    stopping ??= (async () => {
      await terminate();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await mkdir(logsDir);
    if (saslSslPort !== undefined) {
      const made = await selfSignedKeystore(dir);
      keystore = made;
      certificatePem = made.certificatePem;
    }
    await writeFile(
      conf,
      serverProperties(dir, { port, controllerPort, saslPort, saslSslPort }, opts, keystore),
    );
    // KRaft refuses to start on an unformatted log dir. Formatting writes meta.properties to the log and
    // metadata dirs and the bootstrap checkpoint with this node as the only voter (`--standalone`), and
    // the SCRAM credentials, which KRaft keeps in the cluster metadata.
    const scram = Object.entries(opts.sasl?.users ?? {}).flatMap(([name, password]) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
        '--add-scram',
        `${m}=[name=${name},password=${password}]`,
      ]),
    );
    const format = java('128m', [
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      '-t',
      clusterId(),
      '-c',
      conf,
      ...scram,
    ]);
    live.set(format, dir);
    const formatted = await exitOf(format).finally(() => live.delete(format));
    if ('error' in formatted || formatted.code !== 0) {
      throw new Error(`kafka-storage format ${describeEnd(formatted)}\n${await logs()}`);
    }
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    brokers,
    port,
    controllerPort,
    sasl: saslPort === undefined ? undefined : { brokers: [`127.0.0.1:${saslPort}`], port: saslPort },
    saslSsl:
      saslSslPort === undefined || certificatePem === undefined
        ? undefined
        : { brokers: [`127.0.0.1:${saslSslPort}`], port: saslSslPort, ca: certificatePem },
    dir,
    get pid() {
      return child?.pid;
    },
    kill,
    async restart() {
      if (stopped) throw new Error('restart() after stop(): the broker and its data are gone');
      await terminate();
      await launch();
    },
    stop,
    logs,
  };
}
