import { formatTime } from "../../util";
import type { ProviderHealth } from "./types";

/** One card per provider: its state, why, its models, and how its recent calls went. */
export function Providers({ providers }: { providers: ProviderHealth[] }) {
  return (
    <ul class="providers">
      {providers.map((p) => (
        <li key={p.name} class="card" aria-label={`Provider ${p.name}`}>
          <div class="row spread">
            <h3>
              {p.name} <span class="muted small">{p.kind}</span>
            </h3>
            <span class={`badge health-${p.status}`}>{p.status}</span>
          </div>
          <p class="small">
            {p.detail}
            {p.probe_ms !== null && <span class="muted"> · probe {p.probe_ms} ms</span>}
          </p>
          <p class="muted small">
            Last 15 min: {p.recent.requests} calls, {p.recent.server_errors} failed
            {p.recent.latency_p50_ms !== null && `, p50 ${p.recent.latency_p50_ms} ms`}
            {p.last_error_at && `, last failure ${formatTime(p.last_error_at)}`}
          </p>
          {p.models.length > 0 && (
            <ul class="model-states">
              {p.models.map((m) => (
                <li key={m.name} title={m.detail}>
                  <span class={`badge model-${m.state}`}>{m.state}</span> {m.name}
                  {m.queued ? <span class="muted small"> · {m.queued} waiting</span> : null}
                  {m.state === "failed" && <span class="error small"> {m.detail}</span>}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ul>
  );
}
