// The admin API's shapes (crates/cairn-server/src/api/dashboard.rs and admin.rs).

export type Point = {
  at: number;
  requests: number;
  errors: number;
  server_errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_nanos: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
};

export type Series = { group: string; total: Point; points: Point[] };

export type Dashboard = {
  span: string;
  by: "all" | "model" | "user" | "provider";
  window: { from_ms: number; to_ms: number; bucket_ms: number };
  currency: string;
  truncated: boolean;
  overall: Point;
  series: Series[];
  labels: Record<string, string>;
};

export type RequestRow = {
  id: string;
  at: number;
  request_id: string;
  user_id: string;
  user_email: string | null;
  route: string;
  model: string;
  provider: string;
  status: number;
  stream: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
  latency_ms: number;
  ttft_ms: number | null;
};

export type ModelHealth = { name: string; state: string; detail: string; queued: number | null };

export type ProviderHealth = {
  name: string;
  kind: string;
  status: "ok" | "degraded" | "down" | "starting";
  detail: string;
  models: ModelHealth[];
  probe_ms: number | null;
  recent: Point;
  last_error_at: number | null;
};

export type AdminUser = {
  id: string;
  email: string;
  name: string;
  role: "admin" | "member";
  tier: string;
  disabled: boolean;
  created_at: number;
};

export type Tier = { name: string; models: string[]; default_model: string; default: boolean };

export type Invitation = {
  id: string;
  email: string | null;
  tier: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
};
