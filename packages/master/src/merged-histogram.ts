// A histogram made of bucket counts that workers add up themselves, in prom-client's registry and
// text format. prom-client's Histogram only takes one observation at a time, and sending every
// request's duration to the master would cost more than counting it: so this one is given whole
// bucket counts (not cumulative) and a sum, and writes the usual _bucket, _sum and _count series.
// Runs in the master.
import { Histogram, type MetricObjectWithValues, type MetricType, type MetricValueWithName } from 'prom-client';

// prom-client's types call this field an enum, which its code never exports: its values are these names.
const HISTOGRAM = 'histogram' as unknown as MetricType;

export class MergedHistogram extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  /** Per bucket, then the observations above the last bound. */
  readonly #counts: number[];
  #sum = 0;

  constructor(name: string, help: string, bounds: readonly number[]) {
    super({ name, help, buckets: [...bounds], registers: [] });
    this.#name = name;
    this.#help = help;
    this.#bounds = bounds;
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Adds `counts` (one per bucket, and one above the last) and their `sum`. */
  add(counts: readonly number[], sum: number): void {
    for (const [i, count] of counts.entries()) this.#counts[i] = (this.#counts[i] ?? 0) + count;
    this.#sum += sum;
  }

  override get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return Promise.resolve(this.#export());
  }

  /** What prom-client's registry calls when it writes the text format. */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return Promise.resolve(this.#export());
  }

  #export(): MetricObjectWithValues<MetricValueWithName<string>> {
    const bucket = `${this.#name}_bucket`;
    let cumulative = 0;
    const values: MetricValueWithName<string>[] = this.#bounds.map((bound, i) => {
      cumulative += this.#counts[i] ?? 0;
      return { metricName: bucket, labels: { le: bound }, value: cumulative };
    });
    const count = cumulative + (this.#counts[this.#bounds.length] ?? 0);
    values.push({ metricName: bucket, labels: { le: '+Inf' }, value: count });
    values.push({ metricName: `${this.#name}_sum`, labels: {}, value: this.#sum });
    values.push({ metricName: `${this.#name}_count`, labels: {}, value: count });
    return { name: this.#name, help: this.#help, type: HISTOGRAM, values, aggregator: 'sum', collect: () => undefined };
  }
}
