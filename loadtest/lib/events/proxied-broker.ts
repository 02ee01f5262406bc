/**
 * A Kafka broker that a client can be cut off from while everything else keeps running: a private
 * single-node broker (@eta/testing startKafkaBroker, the same Kafka jars as the shared one) with a second
 * listener whose ADVERTISED address is a Toxiproxy proxy in front of it.
 *
 * Why not a proxy in front of the shared broker: a Kafka client uses its bootstrap address only for the
 * first metadata request, then connects to the address the broker advertises (127.0.0.1:9092 for the
 * shared one). A client bootstrapped through a proxy therefore sends everything straight to the broker, and
 * disabling the proxy changes nothing (checked: a kafkajs producer kept sending after the proxy was
 * disabled). A client that bootstraps through `viaProxy` here is told the proxy's address, so every one of
 * its connections goes through the proxy, and `proxy.disable()` is a real outage for it alone.
 *
 * startKafkaBroker takes no listener option and picks its own ports, so the listener is added to its
 * server.properties (Java reads the last value of a repeated key) and the broker restarted once on the same
 * ports and data, as `restart()` does.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startKafkaBroker, type KafkaBroker } from '@eta/testing';
import { startToxiproxy, type ToxicProxy, type ToxiproxyServer } from '@eta/testing/toxiproxy';

export interface ProxiedBroker {
  /** `127.0.0.1:<proxy port>`: KAFKA_BROKERS for the client that is to lose the broker. */
  readonly viaProxy: string;
  /** `127.0.0.1:<port>`: the broker's own listener, for the scenario's admin client (never cut off). */
  readonly direct: string;
  readonly proxy: ToxicProxy;
  readonly broker: KafkaBroker;
  /** Stops Toxiproxy and the broker (its folder is removed). Safe to call twice. */
  stop(): Promise<void>;
}

export async function startProxiedBroker(
  opts: { readonly partitions?: number } = {},
): Promise<ProxiedBroker> {
  let tp: ToxiproxyServer | undefined;
  let broker: KafkaBroker | undefined;
  const stop = async () => {
    await tp?.stop().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
  };
  try {
    tp = await startToxiproxy({ logLevel: 'warn' });
    broker = await startKafkaBroker({ partitions: opts.partitions ?? 1 });
    const proxyPort = await freePort();
    let listenPort = await freePort();
    while (listenPort === proxyPort) listenPort = await freePort();
    const p = broker.port;
    const c = broker.controllerPort;
    await appendFile(
      join(broker.dir, 'server.properties'),
      '# Added by loadtest/lib/events/proxied-broker.ts: a listener advertised at a Toxiproxy proxy.\n' +
        `listeners=PLAINTEXT://127.0.0.1:${p},CONTROLLER://127.0.0.1:${c},VIA_PROXY://127.0.0.1:${listenPort}\n` +
        `advertised.listeners=PLAINTEXT://127.0.0.1:${p},CONTROLLER://127.0.0.1:${c},VIA_PROXY://127.0.0.1:${proxyPort}\n` +
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,VIA_PROXY:PLAINTEXT\n',
    );
    await broker.restart();
    const proxy = await tp.createProxy('kafka', `127.0.0.1:${listenPort}`, { listenPort: proxyPort });
    return { viaProxy: proxy.listen, direct: broker.brokers[0]!, proxy, broker, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
