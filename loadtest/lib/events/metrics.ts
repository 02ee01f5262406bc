/**
 * Reading a service's Prometheus text (`GET /metrics`) for the event scenarios: sums of a metric's series
 * whose labels match, and a quantile of a histogram from its cumulative buckets, as Prometheus'
 * histogram_quantile() estimates it (linear inside the bucket). The reading is @eta/service-kit's
 * (prom-text.ts), under the names the scenarios use:
 *
 * - `series(text, name)`: every series of `name` (exactly: not its _bucket/_sum/_count), labels and value;
 * - `sum(text, name, where)`: the sum of the series whose labels include `where`, 0 when there is none;
 * - `byLabel(text, name, label, where)`: values by one label, summed over the others;
 * - `buckets(text, name, where)`: a histogram's cumulative bucket counts by upper bound;
 * - `histogramQuantile(q, after, before?)`: the q-quantile between two readings of the buckets.
 */
import { request } from 'undici';

export {
  byLabel,
  histogramBuckets as buckets,
  histogramQuantile,
  samples as series,
  sumSamples as sum,
} from '@eta/service-kit';

export async function scrape(origin: string): Promise<string> {
  const res = await request(`${origin}/metrics`);
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${origin}/metrics answered ${res.statusCode}`);
  }
  return res.body.text();
}
