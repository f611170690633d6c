import { useState } from "preact/hooks";
import { get } from "../../api";
import { errorText, formatTime } from "../../util";
import type { RequestRow } from "./types";

type Page = { data: RequestRow[]; has_more: boolean; next_before: number | null; next_before_id: string | null };
type Next = { before: number; id: string } | null;

const nextOf = (page: Page | null): Next =>
  page?.has_more && page.next_before !== null ? { before: page.next_before, id: page.next_before_id ?? "" } : null;

/** The newest metered calls: `first` is the newest page (reloaded by the page), then older ones on demand. */
export function RecentRequests({ first, onError }: { first: Page | null; onError: (e: string) => void }) {
  const [older, setOlder] = useState<{ rows: RequestRow[]; next: Next; from: Page | null }>({ rows: [], next: null, from: null });
  // A new first page (auto-refresh) starts the list again.
  const extra = older.from === first ? older : { rows: [], next: null, from: first };
  const rows = [...(first?.data ?? []), ...extra.rows];
  const next = extra.rows.length ? extra.next : nextOf(first);

  async function more() {
    if (!next) return;
    try {
      const page: Page = await get(`/api/admin/requests?limit=50&before=${next.before}&before_id=${encodeURIComponent(next.id)}`);
      setOlder({ rows: [...extra.rows, ...page.data], next: nextOf(page), from: first });
    } catch (err) {
      onError(errorText(err));
    }
  }

  return (
    <>
      <div class="table-wrap">
        <table class="requests">
          <caption class="visually-hidden">Recent requests</caption>
          <thead>
            <tr>
              <th>When</th>
              <th>User</th>
              <th>Model</th>
              <th>Route</th>
              <th>Status</th>
              <th class="num">Tokens in / out</th>
              <th class="num">Latency</th>
              <th class="num">TTFT</th>
              <th class="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} title={`request ${r.request_id}`}>
                <td>
                  <time dateTime={new Date(r.at).toISOString()}>{formatTime(r.at)}</time>
                </td>
                <td>{r.user_email ?? r.user_id}</td>
                <td>
                  {r.model} <span class="muted small">{r.provider}</span>
                </td>
                <td>
                  <code class="small">{r.route}</code>
                  {r.stream && <span class="muted small"> stream</span>}
                </td>
                <td>
                  <span class={`badge ${r.status >= 500 ? "failed" : r.status >= 400 ? "queued" : "active"}`}>{r.status}</span>
                </td>
                <td class="num">
                  {r.prompt_tokens} / {r.completion_tokens}
                </td>
                <td class="num">{r.latency_ms} ms</td>
                <td class="num">{r.ttft_ms === null ? "–" : `${r.ttft_ms} ms`}</td>
                <td class="num">{r.cost.toFixed(6)}</td>
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={9} class="muted">No requests yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {next && (
        <button type="button" onClick={more}>
          Older requests
        </button>
      )}
    </>
  );
}
