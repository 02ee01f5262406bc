import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

/**
 * A real Kubernetes control plane on 127.0.0.1 for tests: etcd, kube-apiserver (RBAC on, a static admin
 * token, service-account tokens signed by a key pair made here), kube-controller-manager, kube-scheduler,
 * and kwok, which plays the kubelet for nodes that run no containers (pods are scheduled, get an IP and
 * turn Ready; Job pods complete). The binaries come from scripts/k8s/tools.sh, built once per version and
 * cached outside the checkout; ETA_K8S_TOOLS names the folder when the test command already built them.
 */

const execFileAsync = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface NodeSpec {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** What the scheduler may place on the node; defaults to 8 CPUs, 32 GiB, 110 pods. */
  readonly allocatable?: { readonly cpu?: string; readonly memory?: string; readonly pods?: string };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> of the API server (self-signed certificate). */
  readonly server: string;
  /** A kubeconfig file for the admin user (system:masters). */
  readonly kubeconfig: string;
  readonly adminToken: string;
  /** The folder of the built tools (bin/, kwok-stages/, helm-plugins/, kubernetes-swagger.json). */
  readonly tools: string;
  readonly dir: string;
  /** Runs a tool of the tools folder (kubectl, helm …) with the admin kubeconfig; never throws on exit codes. */
  run(
    tool: string,
    args: readonly string[],
    opts?: { input?: string; env?: NodeJS.ProcessEnv },
  ): Promise<RunResult>;
  /** Like run, but throws with the tool's stderr unless it exits 0; returns stdout. */
  must(
    tool: string,
    args: readonly string[],
    opts?: { input?: string; env?: NodeJS.ProcessEnv },
  ): Promise<string>;
  /** Writes a kubeconfig that authenticates with `token` (for a ServiceAccount's identity); returns its path. */
  kubeconfigFor(token: string, name: string): Promise<string>;
  /** Registers kwok nodes; resolves once each is Ready. */
  addNodes(nodes: readonly NodeSpec[]): Promise<void>;
  /** The last lines of each component's log, for a failing test's message. */
  logs(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** The tools folder: ETA_K8S_TOOLS, else scripts/k8s/tools.sh (a no-op once built). */
export async function k8sTools(): Promise<string> {
  const given = process.env.ETA_K8S_TOOLS?.trim();
  if (given) return given;
  const { stdout } = await execFileAsync(join(REPO_ROOT, 'scripts/k8s/tools.sh'), [], {
    maxBuffer: 1 << 20,
    timeout: 90 * 60_000,
  });
  return stdout.trim();
}

function kubeconfigYaml(server: string, user: string, token: string): string {
  // The API server's certificate is self-signed at start-up, hence no CA to pin here.
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: test`,
    `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
    'users:',
    `- name: ${user}`,
    `  user: {token: "${token}"}`,
    'contexts:',
    `- name: test`,
    `  context: {cluster: test, user: ${user}, namespace: default}`,
    'current-context: test',
    '',
  ].join('\n');
}

function httpsGet(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logs: () => Promise<string>,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until)
      throw new Error(`${what} did not come up within ${timeoutMs} ms\n${await logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface ControlPlaneOptions {
  /** kwok nodes registered before startControlPlane resolves. */
  readonly nodes?: readonly NodeSpec[];
  /**
   * kube-controller-manager flags after the harness's own; a flag given again takes the last value
   * (`--horizontal-pod-autoscaler-sync-period=1s` replaces the harness's 2s).
   */
  readonly controllerManagerArgs?: readonly string[];
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const tools = await k8sTools();
  const bin = (name: string) => join(tools, 'bin', name);
  const dir = await mkdtemp(join(tmpdir(), 'eta-kube-'));
  const children: { name: string; child: ChildProcess }[] = [];
  const adminToken = randomBytes(16).toString('hex');

  const logs = async (lines = 30): Promise<string> => {
    const parts: string[] = [];
    for (const { name } of children) {
      const text = await readFile(join(dir, `${name}.log`), 'utf8').catch(() => '');
      parts.push(`--- ${name} (last ${lines} lines)\n${text.split('\n').slice(-lines).join('\n')}`);
    }
    return parts.join('\n');
  };

  const start = (name: string, cmd: string, args: readonly string[]) => {
    const out = createWriteStream(join(dir, `${name}.log`));
    const child = spawn(bin(cmd), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // A test process that dies without stop() must not leave a control plane running behind it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    children.push({ name, child });
    return child;
  };

  const stop = async () => {
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // Service-account token signing keys; the API server verifies with the public half.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
    await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n`);
    await mkdir(join(dir, 'certs'));

    const [etcdPort, etcdPeerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    start('etcd', 'etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      // A throwaway store: fsync only slows a test down on a busy disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000, logs);

    const server = `https://127.0.0.1:${apiPort}`;
    start('kube-apiserver', 'kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=false',
      '--v=1',
    ]);
    await waitFor(
      'kube-apiserver',
      async () => (await httpsGet(`${server}/readyz`, adminToken)).status === 200,
      120_000,
      logs,
    );

    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, 'admin', adminToken));

    start('kube-controller-manager', 'kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      // Pods of kwok nodes get their IPs from kwok; the HPA controller syncs often so a raised
      // minReplicas shows up in a test without waiting the default 15 s.
      '--horizontal-pod-autoscaler-sync-period=2s',
      '--v=1',
      ...(opts.controllerManagerArgs ?? []),
    ]);
    start('kube-scheduler', 'kube-scheduler', [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--v=1',
    ]);
    const stages = join(tools, 'kwok-stages');
    const stageFiles = (await readdir(stages)).filter((f) => f.endsWith('.yaml')).map((f) => join(stages, f));
    start('kwok', 'kwok', [
      `--kubeconfig=${kubeconfig}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.1',
      '--node-lease-duration-seconds=40',
      '--server-address=127.0.0.1:0',
      ...stageFiles.map((f) => `--config=${f}`),
    ]);

    const run = (
      tool: string,
      args: readonly string[],
      o: { input?: string; env?: NodeJS.ProcessEnv } = {},
    ) =>
      new Promise<RunResult>((resolveRun, reject) => {
        const child = spawn(bin(tool), [...args], {
          env: {
            ...process.env,
            KUBECONFIG: kubeconfig,
            HELM_PLUGINS: join(tools, 'helm-plugins'),
            HELM_CACHE_HOME: join(dir, 'helm-cache'),
            HELM_CONFIG_HOME: join(dir, 'helm-config'),
            HELM_DATA_HOME: join(dir, 'helm-data'),
            ...o.env,
          },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(o.input ?? '');
      });
    const must = async (
      tool: string,
      args: readonly string[],
      o: { input?: string; env?: NodeJS.ProcessEnv } = {},
    ) => {
      const r = await run(tool, args, o);
      if (r.code !== 0)
        throw new Error(`${tool} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
      return r.stdout;
    };

    const addNodes = async (nodes: readonly NodeSpec[]) => {
      const docs = nodes.map((n) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: n.name,
            annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
            labels: {
              'kubernetes.io/hostname': n.name,
              'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64',
              type: 'kwok',
              ...n.labels,
            },
          },
          status: {
            allocatable: { cpu: '8', memory: '32Gi', pods: '110', ...n.allocatable },
            capacity: { cpu: '8', memory: '32Gi', pods: '110', ...n.allocatable },
          },
        }),
      );
      await must('kubectl', ['apply', '-f', '-'], { input: docs.join('\n---\n') });
      await must('kubectl', [
        'wait',
        '--for=condition=Ready',
        '--timeout=120s',
        ...nodes.map((n) => `node/${n.name}`),
      ]);
    };

    // The API server is up but its controllers are not yet: wait until the default namespace has its
    // ServiceAccount (the serviceaccount controller runs) so pods can be created right away.
    await waitFor(
      'kube-controller-manager',
      async () => (await run('kubectl', ['get', 'serviceaccount', 'default', '-n', 'default'])).code === 0,
      120_000,
      logs,
    );

    const plane: ControlPlane = {
      server,
      kubeconfig,
      adminToken,
      tools,
      dir,
      run,
      must,
      kubeconfigFor: async (token, name) => {
        const path = join(dir, `${name}.kubeconfig`);
        await writeFile(path, kubeconfigYaml(server, name, token));
        return path;
      },
      addNodes,
      logs,
      stop,
    };
    if (opts.nodes?.length) await addNodes(opts.nodes);
    return plane;
  } catch (err) {
    await stop();
    throw err;
  }
}
