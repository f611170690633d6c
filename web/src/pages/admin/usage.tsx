import { LineChart, type Line } from "./chart";
import type { Dashboard, Point } from "./types";

/** Most groups drawn in one chart; the quieter rest are named below it. */
const MAX_LINES = 6;

const count = (v: number) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : String(Math.round(v * 100) / 100));
const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(0)} s` : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
const percent = (v: number) => `${Number(v.toPrecision(2))}%`;
const tokens = (p: Point) => p.prompt_tokens + p.completion_tokens;
const errorRate = (p: Point) => (p.requests ? (100 * p.errors) / p.requests : null);

/** Headline numbers of the whole window, then one chart per measure, a line per group. */
export function UsageOverview({ data }: { data: Dashboard }) {
  const o = data.overall;
  const money = (v: number) => `${(v / 1e9).toFixed(v >= 1e9 ? 2 : 4)} ${data.currency}`;
  const label = (group: string) => data.labels[group] ?? group;
  const shown = data.series.slice(0, MAX_LINES);
  const hidden = data.series.slice(MAX_LINES);
  const times = data.series[0]?.points.map((p) => p.at) ?? [];
  const lines = (value: (p: Point) => number | null): Line[] =>
    shown.map((s) => ({ name: label(s.group), values: s.points.map(value) }));

  return (
    <>
      <dl class="kpis" aria-label="This window">
        <Kpi name="Requests" value={o.requests.toLocaleString()} />
        <Kpi name="Error rate" value={o.requests ? percent(errorRate(o)!) : "–"} detail={`${o.errors} errors, ${o.server_errors} server`} />
        <Kpi name="Latency p50 / p95" value={o.latency_p50_ms === null ? "–" : `${ms(o.latency_p50_ms)} / ${ms(o.latency_p95_ms!)}`} />
        <Kpi name="First token p50 / p95" value={o.ttft_p50_ms === null ? "–" : `${ms(o.ttft_p50_ms)} / ${ms(o.ttft_p95_ms!)}`} />
        <Kpi name="Tokens" value={tokens(o).toLocaleString()} detail={`${o.prompt_tokens.toLocaleString()} in, ${o.completion_tokens.toLocaleString()} out`} />
        <Kpi name="Cost" value={money(o.cost_nanos)} />
      </dl>
      {data.truncated && (
        <p class="notice">This window holds more requests than one view reads; the oldest are left out.</p>
      )}
      <div class="charts">
        <LineChart title="Requests" times={times} lines={lines((p) => p.requests)} format={count} whole />
        <LineChart title="Error rate" times={times} lines={lines(errorRate)} format={percent} />
        <LineChart title="Latency p50" times={times} lines={lines((p) => p.latency_p50_ms)} format={ms} />
        <LineChart title="Latency p95" times={times} lines={lines((p) => p.latency_p95_ms)} format={ms} />
        <LineChart title="Time to first token p50" times={times} lines={lines((p) => p.ttft_p50_ms)} format={ms} />
        <LineChart title="Time to first token p95" times={times} lines={lines((p) => p.ttft_p95_ms)} format={ms} />
        <LineChart title="Tokens" times={times} lines={lines(tokens)} format={count} whole />
        <LineChart title={`Cost (${data.currency})`} times={times} lines={lines((p) => p.cost_nanos / 1e9)} format={(v) => v.toPrecision(2)} />
      </div>
      {hidden.length > 0 && (
        <p class="muted small">
          Not drawn (fewer requests): {hidden.map((s) => `${label(s.group)} (${s.total.requests})`).join(", ")}
        </p>
      )}
      {data.by !== "all" && <GroupTable data={data} label={label} money={money} />}
    </>
  );
}

function Kpi({ name, value, detail }: { name: string; value: string; detail?: string }) {
  return (
    <div class="kpi card">
      <dt>{name}</dt>
      <dd>
        {value}
        {detail && <span class="muted small">{detail}</span>}
      </dd>
    </div>
  );
}

function GroupTable({ data, label, money }: { data: Dashboard; label: (g: string) => string; money: (v: number) => string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>By {data.by}</caption>
        <thead>
          <tr>
            <th>{data.by[0].toUpperCase() + data.by.slice(1)}</th>
            <th class="num">Requests</th>
            <th class="num">Errors</th>
            <th class="num">p50</th>
            <th class="num">p95</th>
            <th class="num">TTFT p50</th>
            <th class="num">Tokens</th>
            <th class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {data.series.map((s) => (
            <tr key={s.group}>
              <td>{label(s.group)}</td>
              <td class="num">{s.total.requests}</td>
              <td class="num">{s.total.errors}</td>
              <td class="num">{s.total.latency_p50_ms === null ? "–" : ms(s.total.latency_p50_ms)}</td>
              <td class="num">{s.total.latency_p95_ms === null ? "–" : ms(s.total.latency_p95_ms)}</td>
              <td class="num">{s.total.ttft_p50_ms === null ? "–" : ms(s.total.ttft_p50_ms)}</td>
              <td class="num">{tokens(s.total).toLocaleString()}</td>
              <td class="num">{money(s.total.cost_nanos)}</td>
            </tr>
          ))}
          {data.series.length === 0 && (
            <tr>
              <td colSpan={8} class="muted">No requests in this window.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
