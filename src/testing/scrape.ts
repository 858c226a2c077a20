/** Scrapes a `/metrics` endpoint and reads it with a real Prometheus text parser. */
import parsePrometheusTextFormat, { type PromFamily } from "parse-prometheus-text-format";

export type Scrape = {
  families: PromFamily[];
  /** The value of a series (a counter, gauge, or a histogram's `count` / `sum`); undefined when absent. */
  value(name: string, labels?: Record<string, string>, field?: "count" | "sum"): number | undefined;
};

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  if (!res.headers.get("content-type")?.startsWith("text/plain")) throw new Error("not the Prometheus text format");
  const families = parsePrometheusTextFormat(await res.text());
  return {
    families,
    value(name, labels = {}, field) {
      const sample = families
        .find((f) => f.name === name)
        ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
      const text = field ? sample?.[field] : sample?.value;
      return text === undefined ? undefined : Number(text);
    },
  };
}
