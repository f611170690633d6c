import { useEffect, useState } from "preact/hooks";
import { del, get, patch, post } from "../../api";
import { useSession } from "../../session";
import { errorText, formatTime } from "../../util";
import type { AdminUser, Invitation, Tier } from "./types";

function invitationState(i: Invitation): string {
  if (i.revoked_at) return "revoked";
  if (i.used_at) return "used";
  if (i.expires_at <= Date.now()) return "expired";
  return "active";
}

/** Users with their tier and status, and the invitations that let new people sign up. */
export function Users({ onError }: { onError: (e: string) => void }) {
  const { session } = useSession();
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [tiers, setTiers] = useState<Tier[]>([]);
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [inviteEmail, setInviteEmail] = useState("");
  const [inviteTier, setInviteTier] = useState("");
  const [link, setLink] = useState("");

  async function refresh() {
    try {
      const [u, t, i] = await Promise.all([get("/api/admin/users"), get("/api/admin/tiers"), get("/api/admin/invitations")]);
      setUsers(u.data);
      setTiers(t.data);
      setInvitations(i.data);
    } catch (err) {
      onError(errorText(err));
    }
  }
  useEffect(() => {
    refresh();
  }, []);

  async function update(user: AdminUser, change: Partial<Pick<AdminUser, "tier" | "disabled">>) {
    try {
      const updated: AdminUser = await patch(`/api/admin/users/${user.id}`, change);
      setUsers((all) => all.map((u) => (u.id === updated.id ? updated : u)));
    } catch (err) {
      onError(errorText(err));
    }
  }

  async function invite(e: Event) {
    e.preventDefault();
    try {
      const created = await post("/api/admin/invitations", {
        email: inviteEmail.trim() || undefined,
        tier: inviteTier || undefined,
      });
      setLink(`${location.origin}${created.path}`);
      setInviteEmail("");
      refresh();
    } catch (err) {
      onError(errorText(err));
    }
  }

  async function revoke(i: Invitation) {
    if (!confirm("Revoke this invitation? Its link stops working.")) return;
    try {
      await del(`/api/admin/invitations/${i.id}`);
      refresh();
    } catch (err) {
      onError(errorText(err));
    }
  }

  return (
    <>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Users</caption>
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Tier</th>
              <th>Since</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-email={u.email}>
                <td>
                  {u.email}
                  {u.name && u.name !== u.email && <div class="muted small">{u.name}</div>}
                </td>
                <td>{u.role}</td>
                <td>
                  <select
                    aria-label={`Tier of ${u.email}`}
                    value={u.tier}
                    onChange={(e) => update(u, { tier: e.currentTarget.value })}
                  >
                    {!tiers.some((t) => t.name === u.tier) && <option value={u.tier}>{u.tier} (removed)</option>}
                    {tiers.map((t) => (
                      <option key={t.name} value={t.name}>
                        {t.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{formatTime(u.created_at)}</td>
                <td>
                  <span class={`badge ${u.disabled ? "revoked" : "active"}`}>{u.disabled ? "disabled" : "active"}</span>{" "}
                  {u.id !== session.user.id && (
                    <button type="button" class="link" onClick={() => update(u, { disabled: !u.disabled })} aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.email}`}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3>Invitations</h3>
      <form class="card row-form" onSubmit={invite} aria-label="Invite someone">
        <label class="grow">
          <span>
            E-mail <span class="muted">(optional: only this address may use it)</span>
          </span>
          <input type="email" value={inviteEmail} onInput={(e) => setInviteEmail(e.currentTarget.value)} />
        </label>
        <label>
          Tier
          <select value={inviteTier} aria-label="Invitation tier" onChange={(e) => setInviteTier(e.currentTarget.value)}>
            <option value="">default</option>
            {tiers.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Create invitation
        </button>
      </form>
      {link && (
        <div class="card secret" role="status">
          <p>
            <strong>Send this sign-up link now.</strong> It is shown only once.
          </p>
          <div class="row">
            <code class="key" data-testid="invitation-link">{link}</code>
            <button type="button" onClick={() => navigator.clipboard?.writeText(link)}>
              Copy
            </button>
            <button type="button" class="link" onClick={() => setLink("")}>
              Done
            </button>
          </div>
        </div>
      )}
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Invitations</caption>
          <thead>
            <tr>
              <th>For</th>
              <th>Tier</th>
              <th>Created</th>
              <th>Expires</th>
              <th>State</th>
              <th><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {invitations.map((i) => (
              <tr key={i.id}>
                <td>{i.email ?? <span class="muted">anyone with the link</span>}</td>
                <td>{i.tier ?? "default"}</td>
                <td>{formatTime(i.created_at)}</td>
                <td>{formatTime(i.expires_at)}</td>
                <td>
                  <span class={`badge ${invitationState(i)}`}>{invitationState(i)}</span>
                </td>
                <td>
                  {invitationState(i) === "active" && (
                    <button type="button" class="danger" onClick={() => revoke(i)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {invitations.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">No invitations.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
