import { useEffect, useState } from "preact/hooks";
import { get } from "../api";
import { useSession } from "../session";
import { errorText, useInterval, useTitle } from "../util";
import { Providers } from "./admin/providers";
import { RecentRequests } from "./admin/requests";
import type { Dashboard, ProviderHealth, RequestRow } from "./admin/types";
import { UsageOverview } from "./admin/usage";
import { Users } from "./admin/users";

const SPANS = [
  ["1h", "Last hour"],
  ["6h", "Last 6 hours"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
];
const SPLITS = [
  ["model", "By model"],
  ["user", "By user"],
  ["provider", "By provider"],
  ["all", "All together"],
];
/** How often the numbers reload while the page is open and visible. */
const REFRESH_MS = 15_000;

type RequestsPage = { data: RequestRow[]; has_more: boolean; next_before: number | null; next_before_id: string | null };

/** The admin dashboard: usage over time, provider health, recent requests, users and tiers. */
export function Admin(_: { path?: string }) {
  const { session } = useSession();
  const [span, setSpan] = useState("24h");
  const [by, setBy] = useState("model");
  const [usage, setUsage] = useState<Dashboard | null>(null);
  const [providers, setProviders] = useState<ProviderHealth[]>([]);
  const [requests, setRequests] = useState<RequestsPage | null>(null);
  const [updated, setUpdated] = useState<number | null>(null);
  const [error, setError] = useState("");
  useTitle("Admin");

  async function refresh() {
    try {
      const [u, p, r] = await Promise.all([
        get<Dashboard>(`/api/admin/dashboard?span=${span}&by=${by}`),
        get(`/api/admin/providers`),
        get<RequestsPage>(`/api/admin/requests?limit=50`),
      ]);
      setUsage(u);
      setProviders(p.data);
      setRequests(r);
      setUpdated(Date.now());
      setError("");
    } catch (err) {
      setError(errorText(err));
    }
  }
  useEffect(() => {
    if (session.user.role === "admin") refresh();
  }, [span, by]);
  useInterval(() => document.visibilityState === "visible" && refresh(), REFRESH_MS, session.user.role === "admin");

  if (session.user.role !== "admin") {
    return (
      <div class="page">
        <h1>Admin</h1>
        <p class="error" role="alert">Only administrators can see this page.</p>
      </div>
    );
  }

  return (
    <div class="page wide">
      <div class="row spread">
        <h1>Admin</h1>
        <div class="row">
          <label class="inline">
            <span class="visually-hidden">Window</span>
            <select value={span} onChange={(e) => setSpan(e.currentTarget.value)} aria-label="Window">
              {SPANS.map(([value, name]) => (
                <option key={value} value={value}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label class="inline">
            <span class="visually-hidden">Split</span>
            <select value={by} onChange={(e) => setBy(e.currentTarget.value)} aria-label="Split">
              {SPLITS.map(([value, name]) => (
                <option key={value} value={value}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={refresh}>
            Refresh
          </button>
        </div>
      </div>
      <p class="muted small" aria-live="polite">
        {updated ? `Updated ${new Date(updated).toLocaleTimeString()}; reloads every ${REFRESH_MS / 1000} s.` : "Loading…"}
      </p>
      {error && <p class="error" role="alert">{error}</p>}

      <section aria-labelledby="usage-h">
        <h2 id="usage-h">Usage</h2>
        {usage && <UsageOverview data={usage} />}
      </section>
      <section aria-labelledby="providers-h">
        <h2 id="providers-h">Providers</h2>
        <Providers providers={providers} />
      </section>
      <section aria-labelledby="requests-h">
        <h2 id="requests-h">Recent requests</h2>
        <RecentRequests first={requests} onError={setError} />
      </section>
      <section aria-labelledby="users-h">
        <h2 id="users-h">Users and tiers</h2>
        <Users onError={setError} />
      </section>
    </div>
  );
}
