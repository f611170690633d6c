// A small line chart in SVG. The dashboard draws a handful of series of at most a few
// hundred points; a charting library would outweigh the rest of the app's script, and SVG
// keeps text crisp, themable by CSS and readable by screen readers (via the summary).

export type Line = { name: string; values: (number | null)[] };

const W = 560;
const H = 190;
const PAD = { left: 52, right: 12, top: 10, bottom: 26 };
export const PALETTE = ["#2f6fdb", "#d9822b", "#1f8a4c", "#a0368a", "#c23b32", "#0f8b8d", "#7a6f16", "#5c5c5c"];

/** A round step that cuts 0..max into about four parts; whole numbers for counts. */
function niceStep(max: number, whole: boolean): number {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return whole ? Math.max(1, Math.round(step)) : step;
}

function timeLabel(ms: number, spanMs: number): string {
  const d = new Date(ms);
  return spanMs > 2 * 24 * 3600_000
    ? d.toLocaleDateString([], { month: "short", day: "numeric" })
    : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Runs of consecutive non-null points, so gaps show as gaps rather than as zero. */
function segments(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string[] {
  const out: string[] = [];
  let current: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (current.length) out.push(current.join(" "));
      current = [];
    } else current.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (current.length) out.push(current.join(" "));
  return out;
}

export function LineChart({
  title,
  times,
  lines,
  format,
  whole = false,
}: {
  title: string;
  /** Start of each bucket (unix ms), one per value. */
  times: number[];
  lines: Line[];
  format: (v: number) => string;
  /** The values are counts: ticks on whole numbers. */
  whole?: boolean;
}) {
  const all = lines.flatMap((l) => l.values.filter((v): v is number => v !== null));
  const highest = Math.max(...all, 0) || 1;
  const step = niceStep(highest, whole);
  const top = step * Math.ceil(highest / step);
  const n = Math.max(times.length, 1);
  const x = (i: number) => PAD.left + (n === 1 ? 0 : (i / (n - 1)) * (W - PAD.left - PAD.right));
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
  const labelAt = [0, Math.floor((n - 1) / 3), Math.floor((2 * (n - 1)) / 3), n - 1];
  const summary = lines.length
    ? lines
        .map((l) => {
          const vs = l.values.filter((v): v is number => v !== null);
          return vs.length ? `${l.name}: latest ${format(vs[vs.length - 1])}, highest ${format(Math.max(...vs))}` : `${l.name}: no data`;
        })
        .join("; ")
    : "no data";

  return (
    <figure class="chart card">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${summary}`}>
        {ticks.map((t) => (
          <g key={t} class="grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">
              {format(t)}
            </text>
          </g>
        ))}
        {times.length > 0 &&
          [...new Set(labelAt)].map((i) => (
            <text key={i} class="axis" x={x(i)} y={H - 6} text-anchor={i === 0 ? "start" : i === n - 1 ? "end" : "middle"}>
              {timeLabel(times[i], span)}
            </text>
          ))}
        {lines.map((l, li) =>
          segments(l.values, x, y).map((points, si) =>
            points.includes(" ") ? (
              <polyline key={`${li}-${si}`} points={points} fill="none" stroke={PALETTE[li % PALETTE.length]} stroke-width="2" />
            ) : (
              <circle key={`${li}-${si}`} cx={points.split(",")[0]} cy={points.split(",")[1]} r="3" fill={PALETTE[li % PALETTE.length]} />
            ),
          ),
        )}
      </svg>
      {lines.length > 1 && (
        <ul class="legend">
          {lines.map((l, i) => (
            <li key={l.name}>
              <span class="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
              {l.name}
            </li>
          ))}
        </ul>
      )}
      {all.length === 0 && <p class="muted small chart-empty">No requests in this window.</p>}
    </figure>
  );
}
