/**
 * Reading an in-process app's /metrics the way a scrape does (GET /metrics through inject), with the
 * suite's one Prometheus text reader (service-kit's prom-text: exact names, escaped label values).
 */
import { sampleValue, type LabelMatch, type ServiceApp } from '@eta/service-kit';

/** One scrape of `app`'s GET /metrics, as Prometheus text. */
export async function scrapeMetrics(app: ServiceApp): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/metrics' })).body;
}

/**
 * The value of the first series of `name` whose labels include every one of `labels`, from one scrape of
 * `app`; undefined when there is none. A labelled counter has no series until its first increment: a
 * caller that counts that as 0 writes `?? 0`, and one summing over series uses sumSamples(scrapeMetrics).
 */
export async function metricValue(
  app: ServiceApp,
  name: string,
  labels: LabelMatch = {},
): Promise<number | undefined> {
  return sampleValue(await scrapeMetrics(app), name, labels);
}
