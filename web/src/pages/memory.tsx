import { useEffect, useState } from "preact/hooks";
import { del, get, patch, post, put } from "../api";
import { errorText, formatTime, useAutofocus, useTitle } from "../util";

type Memory = { id: string; text: string; updated_at: number; source_conversation_id: string | null };

/** What Cairn remembers about the user: see, add, edit, delete; turn memory off. */
export function MemoryPage(_: { path?: string }) {
  const [memories, setMemories] = useState<Memory[]>([]);
  const [settings, setSettings] = useState<{ enabled: boolean; available: boolean } | null>(null);
  const [draft, setDraft] = useState("");
  const [editing, setEditing] = useState<{ id: string; text: string } | null>(null);
  const [error, setError] = useState("");
  useTitle("Memory");

  async function refresh() {
    try {
      const [list, s] = await Promise.all([get("/api/memories?limit=1000"), get("/api/memories/settings")]);
      setMemories(list.data);
      setSettings(s);
    } catch (err) {
      setError(errorText(err));
    }
  }
  useEffect(() => {
    refresh();
  }, []);

  async function run(action: () => Promise<unknown>) {
    setError("");
    try {
      await action();
      await refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <div class="page">
      <h1>Memory</h1>
      <p class="muted">
        Facts Cairn learned about you in conversations, recalled when they are relevant. Nothing here is shared with other users.
      </p>
      {settings && (
        <div class="card switch-row">
          <label class="toggle">
            <input
              type="checkbox"
              role="switch"
              checked={settings.enabled}
              disabled={!settings.available}
              onChange={(e) => run(() => put("/api/memories/settings", { enabled: e.currentTarget.checked }))}
            />
            <span>Remember things I tell Cairn</span>
          </label>
          {!settings.available && <span class="muted">Memory is turned off on this server.</span>}
          {settings.available && !settings.enabled && (
            <span class="muted">Off: nothing new is learnt and nothing is recalled.</span>
          )}
        </div>
      )}
      <form
        class="card row-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.trim()) run(() => post("/api/memories", { text: draft }).then(() => setDraft("")));
        }}
      >
        <label class="grow">
          Add a memory
          <input value={draft} placeholder="I prefer answers with examples" onInput={(e) => setDraft(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={!draft.trim()}>
          Add
        </button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <ul class="memories">
        {memories.map((m) => (
          <li key={m.id} class="card">
            {editing?.id === m.id ? (
              <form
                class="row-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  run(() => patch(`/api/memories/${m.id}`, { text: editing.text }).then(() => setEditing(null)));
                }}
              >
                <EditMemory
                  value={editing.text}
                  onInput={(text) => setEditing({ id: m.id, text })}
                  onCancel={() => setEditing(null)}
                />
                <button type="submit" class="primary">Save</button>
                <button type="button" onClick={() => setEditing(null)}>Cancel</button>
              </form>
            ) : (
              <>
                <p>{m.text}</p>
                <div class="actions">
                  <span class="muted">
                    {m.source_conversation_id ? (
                      <a href={`/chat/${m.source_conversation_id}`}>learnt in a conversation</a>
                    ) : (
                      "added by you"
                    )}{" "}
                    · {formatTime(m.updated_at)}
                  </span>
                  <button type="button" class="link" onClick={() => setEditing({ id: m.id, text: m.text })}>
                    Edit
                  </button>
                  <button
                    type="button"
                    class="link danger"
                    onClick={() => confirm("Forget this?") && run(() => del(`/api/memories/${m.id}`))}
                  >
                    Delete
                  </button>
                </div>
              </>
            )}
          </li>
        ))}
        {memories.length === 0 && <li class="muted">Cairn remembers nothing about you yet.</li>}
      </ul>
    </div>
  );
}

function EditMemory({
  value,
  onInput,
  onCancel,
}: {
  value: string;
  onInput: (text: string) => void;
  onCancel: () => void;
}) {
  const ref = useAutofocus<HTMLInputElement>();
  return (
    <input
      ref={ref}
      class="grow"
      aria-label="Memory text"
      value={value}
      onInput={(e) => onInput(e.currentTarget.value)}
      onKeyDown={(e) => e.key === "Escape" && onCancel()}
    />
  );
}
