/**
 * The worker-thread side of openThreadedProducer (threaded.ts): one Kafka producer (kafka.ts' openProducer,
 * unchanged) inside a worker, driven by messages from the thread that owns it. Nothing here runs on the
 * owner's event loop: kafkajs encodes each record into its own buffer and checksums every batch in
 * JavaScript (tens of microseconds a message), which is the work this thread exists to take off a
 * request path.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openProducer, type KafkaProducerOptions } from './kafka.ts';
import type { EventLog } from './types.ts';
import type { FromWorker, ToWorker, WireError } from './threaded.ts';

const port = parentPort;
if (port === null) throw new Error('producer-worker.ts runs only as a worker thread (threaded.ts starts it)');

/**
 * An Error as plain data: structured clone keeps only the name and message of an Error, never its `code`
 * (ours, or a Kafka error code) or `type` (kafkajs' name of a Kafka error).
 */
function wireError(err: unknown): WireError {
  if (err instanceof Error) {
    const { code, type } = err as { code?: unknown; type?: unknown };
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(typeof type === 'string' ? { type } : {}),
      ...(err.stack !== undefined ? { stack: err.stack } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

function post(msg: FromWorker): void {
  port!.postMessage(msg);
}

/** Log lines go to the owner's logger, so the service keeps one JSON stream with its own context. */
function forward(level: 'debug' | 'info' | 'warn' | 'error') {
  return (obj: object, msg: string) => {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) fields[k] = v instanceof Error ? wireError(v) : v;
    try {
      post({ t: 'log', level, fields, msg });
    } catch {
      // A field structured clone cannot copy (a function, a socket): the line without its fields.
      post({ t: 'log', level, fields: {}, msg });
    }
  };
}
const log: EventLog = {
  debug: forward('debug'),
  info: forward('info'),
  warn: forward('warn'),
  error: forward('error'),
};

const producer = openProducer({ ...(workerData as Omit<KafkaProducerOptions, 'log'>), log });

// The owner mirrors ready(): told at once on every change, checked here often enough that a send is
// neither refused long after the connection came back nor posted long after it went.
let lastReady = false;
function reportReady(): void {
  const now = producer.ready();
  if (now !== lastReady) {
    lastReady = now;
    post({ t: 'ready', ready: now });
  }
}
const watch = setInterval(reportReady, 50);

port.on('message', (msg: ToWorker) => {
  if (msg.t === 'send') {
    producer.sendRaw(msg.topic, msg.messages).then(
      () => {
        post({ t: 'done', id: msg.id });
        reportReady();
      },
      (err: unknown) => {
        post({ t: 'done', id: msg.id, error: wireError(err) });
        reportReady();
      },
    );
  } else if (msg.t === 'close') {
    clearInterval(watch);
    void producer.close().finally(() => {
      post({ t: 'closed' });
      port.close();
    });
  }
});
