import { readFile } from 'node:fs/promises';
import { Agent, createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ControlPlane } from './kube.ts';

/**
 * The resource metrics API (metrics.k8s.io/v1beta1, what metrics-server serves) for a control plane of
 * ./kube.ts, answering with CPU use the test scripts.
 *
 * This is the *input* of the system under test, not a mock of it: kwok's pods run no containers, so no
 * kubelet or metrics-server can measure them, and a test of the real kube-controller-manager's HPA needs
 * someone to say how much CPU each pod uses. The HPA controller, its informers, the API server and the
 * aggregator that routes the controller's requests here are all real; only the numbers are scripted.
 *
 * How it is wired: an HTTPS server on 127.0.0.1 (the API server's own self-signed serving certificate, from
 * its --cert-dir), registered with an APIService `v1beta1.metrics.k8s.io` (`insecureSkipTLSVerify`) whose
 * Service is of type ExternalName with `externalName: 127.0.0.1`. The aggregator resolves an ExternalName
 * Service to that host and the APIService's port, so kube-apiserver needs no flag. (A selector-less Service
 * with an EndpointSlice to 127.0.0.1 and --enable-aggregator-routing does not work: EndpointSlice and
 * Endpoints validation refuse loopback addresses. No proxy client certificate is configured either: this
 * server does not authenticate the aggregator, it only listens on loopback.)
 *
 * It serves discovery (`/apis`, `/apis/metrics.k8s.io`, `/apis/metrics.k8s.io/v1beta1`), PodMetrics lists
 * (`/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods`, with `labelSelector`, and across namespaces) and
 * single PodMetrics (`.../namespaces/{ns}/pods/{name}`). Node metrics are not served. For every answer it
 * lists the pods from the API server (a quorum read: the pods as they are when the controller asks), asks
 * `usage` for each pod's sample and leaves out the pods it returns `undefined` for (as metrics-server leaves
 * out a pod it has not scraped twice). A pod's CPU goes to its first container, the others report 0.
 * Every list it answered is kept in `lists`, with the pods it saw and what `observe` read beside them.
 */

/** The fields of a Pod this module and its callers read. */
export interface KubePod {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: string;
    readonly creationTimestamp?: string;
  };
  readonly spec: {
    readonly nodeName?: string;
    readonly containers: readonly {
      readonly name: string;
      readonly resources?: { readonly requests?: Readonly<Record<string, string>> };
    }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly startTime?: string;
    readonly conditions?: readonly {
      readonly type: string;
      readonly status: string;
      readonly lastTransitionTime?: string;
    }[];
  };
}

/** One pod's sample as the metrics API reports it. */
export interface PodSample {
  /** CPU used over the window, millicores (rounded to a whole millicore on the wire). */
  readonly cpuMilli: number;
  readonly memoryBytes?: number;
  /** End of the window, epoch ms (sent in whole seconds, as metav1.Time is). */
  readonly timestampMs: number;
  readonly windowS: number;
}

/** A PodMetrics object as served. */
export interface PodMetrics {
  readonly kind: 'PodMetrics';
  readonly apiVersion: 'metrics.k8s.io/v1beta1';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly creationTimestamp: string;
  };
  readonly timestamp: string;
  readonly window: string;
  readonly containers: readonly { readonly name: string; readonly usage: Readonly<Record<string, string>> }[];
}

/** One list the API answered: who asked, when, the pods it saw, what it answered. */
export interface ServedList<T = unknown> {
  /** Request received and answer sent, epoch ms. */
  readonly receivedMs: number;
  readonly answeredMs: number;
  /** The aggregator's X-Remote-User: the identity of whoever asked through the API server. */
  readonly user: string | undefined;
  readonly namespace: string | undefined;
  readonly labelSelector: string;
  /** The pods matching, as the API server listed them while answering. */
  readonly pods: readonly KubePod[];
  readonly items: readonly PodMetrics[];
  /** What `observe` returned for this list. */
  readonly observed: T | undefined;
}

export interface MetricsApiOptions<T = unknown> {
  readonly plane: Pick<ControlPlane, 'server' | 'adminToken' | 'dir' | 'run' | 'must'>;
  /**
   * The sample of one pod now, or undefined to leave it out. `pods` are all pods of the answer (to spread a
   * load over the Ready ones); `nowMs` is the request's receipt.
   */
  readonly usage: (pod: KubePod, pods: readonly KubePod[], nowMs: number) => PodSample | undefined;
  /**
   * Called for every list, in parallel with the pod listing and awaited before the answer: what it reads of
   * the cluster is what the asking controller had read before it asked (the scale it acts on, say), since
   * the controller acts only once answered. `get` GETs a path of the API server as the admin (JSON, no
   * process to start: it adds milliseconds to the answer, not kubectl's hundreds). Its result is kept in
   * `lists`.
   */
  readonly observe?: (
    namespace: string | undefined,
    labelSelector: string,
    get: (path: string) => Promise<unknown>,
  ) => Promise<T>;
  /** Where the ExternalName Service goes; default kube-system. */
  readonly namespace?: string;
}

export interface MetricsApi<T = unknown> {
  readonly port: number;
  /** Every PodMetrics list answered, in the order answered. */
  readonly lists: readonly ServedList<T>[];
  /** Removes the APIService and the Service (when the API server still answers) and stops serving. */
  close(): Promise<void>;
}

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const GV = `${GROUP}/${VERSION}`;
const API_SERVICE = `${VERSION}.${GROUP}`;
const SERVICE = 'eta-test-metrics-api';

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export async function startMetricsApi<T = unknown>(opts: MetricsApiOptions<T>): Promise<MetricsApi<T>> {
  const { plane } = opts;
  const namespace = opts.namespace ?? 'kube-system';
  const certs = join(plane.dir, 'certs');
  const [cert, key] = await Promise.all([
    readFile(join(certs, 'apiserver.crt')),
    readFile(join(certs, 'apiserver.key')),
  ]);
  const agent = new Agent({ keepAlive: true, rejectUnauthorized: false });
  const lists: ServedList<T>[] = [];

  const apiGet = (path: string) =>
    new Promise<unknown>((resolve, reject) => {
      const req = request(
        `${plane.server}${path}`,
        { agent, headers: { authorization: `Bearer ${plane.adminToken}`, accept: 'application/json' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${body}`));
            else resolve(JSON.parse(body));
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: timeout`)));
      req.on('error', reject);
      req.end();
    });

  const listPods = async (ns: string | undefined, labelSelector: string) => {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/pods${q}` : `/api/v1/pods${q}`;
    return ((await apiGet(path)) as { items: KubePod[] }).items;
  };

  const metricsOf = (pod: KubePod, pods: readonly KubePod[], nowMs: number): PodMetrics | undefined => {
    const sample = opts.usage(pod, pods, nowMs);
    if (!sample) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: GV,
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        ...(pod.metadata.labels && { labels: pod.metadata.labels }),
        creationTimestamp: iso(nowMs),
      },
      timestamp: iso(sample.timestampMs),
      window: `${sample.windowS}s`,
      containers: pod.spec.containers.map((c, i) => ({
        name: c.name,
        usage: {
          cpu: `${i === 0 ? Math.max(0, Math.round(sample.cpuMilli)) : 0}m`,
          memory: `${i === 0 ? Math.max(0, Math.round(sample.memoryBytes ?? 0)) : 0}`,
        },
      })),
    };
  };

  const send = (res: ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const groupVersion = { groupVersion: GV, version: VERSION };
  const apiGroup = { name: GROUP, versions: [groupVersion], preferredVersion: groupVersion };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const receivedMs = Date.now();
    const url = new URL(req.url ?? '/', 'https://metrics.invalid');
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method !== 'GET') return send(res, 405, status(405, 'MethodNotAllowed', `${req.method} ${path}`));
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1')
      return send(res, 405, status(405, 'MethodNotAllowed', 'watch is not served'));
    if (path === '/apis')
      return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroup] });
    if (path === `/apis/${GROUP}`) return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup });
    if (path === `/apis/${GV}`) {
      return send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: GV,
        resources: [
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    const m = /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/pods(?:\/([^/]+))?$/.exec(path);
    if (!m) return send(res, 404, status(404, 'NotFound', `${path} is not served`));
    const ns = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (name !== undefined) {
      const pods = await listPods(ns, url.searchParams.get('labelSelector') ?? '');
      const pod = pods.find((p) => p.metadata.name === name);
      const item = pod && metricsOf(pod, pods, receivedMs);
      if (!item)
        return send(res, 404, status(404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`));
      return send(res, 200, item);
    }
    const labelSelector = url.searchParams.get('labelSelector') ?? '';
    const [pods, observed] = await Promise.all([
      listPods(ns, labelSelector),
      opts.observe ? opts.observe(ns, labelSelector, apiGet) : Promise.resolve(undefined),
    ]);
    const items = pods.flatMap((p) => metricsOf(p, pods, receivedMs) ?? []);
    const user = req.headers['x-remote-user'];
    lists.push({
      receivedMs,
      answeredMs: Date.now(),
      user: Array.isArray(user) ? user[0] : user,
      namespace: ns,
      labelSelector,
      pods,
      items,
      observed,
    });
    return send(res, 200, {
      kind: 'PodMetricsList',
      apiVersion: GV,
      metadata: { resourceVersion: '' },
      items,
    });
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, status(500, 'InternalError', String(err)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const closeServer = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    agent.destroy();
  };

  try {
    const objects = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: SERVICE, namespace },
        spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'https', port }] },
      },
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: API_SERVICE },
        spec: {
          group: GROUP,
          version: VERSION,
          groupPriorityMinimum: 100,
          versionPriority: 100,
          insecureSkipTLSVerify: true,
          service: { name: SERVICE, namespace, port },
        },
      },
    ];
    await plane.must('kubectl', ['apply', '-f', '-'], {
      input: objects.map((o) => JSON.stringify(o)).join('\n---\n'),
    });
    // The aggregator's availability check GETs /apis/metrics.k8s.io/v1beta1 here; a cap, not a speed bound.
    await plane.must('kubectl', [
      'wait',
      '--for=condition=Available',
      '--timeout=120s',
      `apiservice/${API_SERVICE}`,
    ]);
  } catch (err) {
    await closeServer();
    throw err;
  }

  return {
    port,
    lists,
    close: async () => {
      await plane.run('kubectl', [
        'delete',
        '--ignore-not-found',
        '--wait=false',
        `apiservice/${API_SERVICE}`,
      ]);
      await plane.run('kubectl', [
        'delete',
        '--ignore-not-found',
        '--wait=false',
        '-n',
        namespace,
        `service/${SERVICE}`,
      ]);
      await closeServer();
    },
  };
}
