import { useEffect, useState } from "preact/hooks";
import { del, get, post } from "../api";
import { useSession } from "../session";
import { errorText, formatTime, useTitle } from "../util";

type Key = {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
};

type UsageRow = {
  group: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  avg_latency_ms: number;
};

function state(k: Key): string {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && k.expires_at <= Date.now()) return "expired";
  return "active";
}

/** The caller's API keys (create: shown once; list; revoke) and their own usage. */
export function Keys(_: { path?: string }) {
  const { session } = useSession();
  const [keys, setKeys] = useState<Key[]>([]);
  const [name, setName] = useState("");
  const [days, setDays] = useState("");
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState("");
  const [usage, setUsage] = useState<{ byDay: UsageRow[]; byModel: UsageRow[]; currency: string } | null>(null);
  useTitle("API keys");

  async function refresh() {
    try {
      setKeys((await get("/api/keys")).data);
      // Named explicitly: without it an admin would see everyone's usage.
      const mine = `user_id=${encodeURIComponent(session.user.id)}`;
      const [byDay, byModel] = await Promise.all([
        get(`/api/usage?group_by=day&${mine}`),
        get(`/api/usage?group_by=model&${mine}`),
      ]);
      setUsage({ byDay: byDay.data.slice(-14), byModel: byModel.data, currency: byDay.currency });
    } catch (err) {
      setError(errorText(err));
    }
  }
  useEffect(() => {
    refresh();
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const created = await post("/api/keys", {
        name: name.trim() || undefined,
        expires_in_days: days ? Number(days) : undefined,
      });
      setSecret({ name: created.name, key: created.key });
      setName("");
      setDays("");
      refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function revoke(k: Key) {
    if (!confirm(`Revoke "${k.name}" (${k.prefix}…)? Programs using it stop working at once.`)) return;
    try {
      await del(`/api/keys/${k.id}`);
      refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <div class="page">
      <h1>API keys</h1>
      <p class="muted">
        Keys let programs use Cairn's OpenAI-compatible API at <code>{location.origin}/v1</code> as you.
      </p>
      <form class="card row-form" onSubmit={create} aria-label="Create a key">
        <label>
          Name
          <input value={name} placeholder="laptop" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          <span>
            Expires in days <span class="muted">(optional)</span>
          </span>
          <input type="number" min="1" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Create key
        </button>
      </form>
      {secret && (
        <div class="card secret" role="status">
          <p>
            <strong>Copy your new key "{secret.name}" now.</strong> It is shown only once.
          </p>
          <div class="row">
            <code class="key" data-testid="new-key">{secret.key}</code>
            <button type="button" onClick={() => navigator.clipboard?.writeText(secret.key)}>
              Copy
            </button>
            <button type="button" class="link" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Your keys</caption>
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Created</th>
              <th>Expires</th>
              <th>State</th>
              <th><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-state={state(k)}>
                <td>{k.name}</td>
                <td><code>{k.prefix}…</code></td>
                <td>{formatTime(k.created_at)}</td>
                <td>{k.expires_at ? formatTime(k.expires_at) : "never"}</td>
                <td><span class={`badge ${state(k)}`}>{state(k)}</span></td>
                <td>
                  {state(k) === "active" && (
                    <button type="button" class="danger" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {keys.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">No keys yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <h2>Your usage</h2>
      {usage && <UsageTables {...usage} />}
    </div>
  );
}

function UsageTable({ title, rows, currency }: { title: string; rows: UsageRow[]; currency: string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th>{title.includes("model") ? "Model" : "Day"}</th>
            <th class="num">Requests</th>
            <th class="num">Errors</th>
            <th class="num">Tokens</th>
            <th class="num">Cost ({currency})</th>
            <th class="num">Avg latency</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.group}>
              <td>{r.group}</td>
              <td class="num">{r.requests}</td>
              <td class="num">{r.errors}</td>
              <td class="num">{r.total_tokens.toLocaleString()}</td>
              <td class="num">{r.cost.toFixed(4)}</td>
              <td class="num">{Math.round(r.avg_latency_ms)} ms</td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">Nothing yet.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function UsageTables({ byDay, byModel, currency }: { byDay: UsageRow[]; byModel: UsageRow[]; currency: string }) {
  return (
    <div class="usage">
      <UsageTable title="By day (last 14)" rows={[...byDay].reverse()} currency={currency} />
      <UsageTable title="By model" rows={byModel} currency={currency} />
    </div>
  );
}
