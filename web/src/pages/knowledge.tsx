import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { del, get, post, upload } from "../api";
import { errorText, formatBytes, formatTime, useInterval, useTitle } from "../util";

type Collection = { id: string; name: string; description: string; created_at: number; owner: unknown };
type Doc = {
  id: string;
  name: string;
  bytes: number;
  status: "queued" | "parsing" | "embedding" | "indexed" | "failed";
  error: string | null;
  chunks_total: number;
  chunks_done: number;
  created_at: number;
};
type Upload = { name: string; progress: number; error?: string };

/** Collections (create, delete) and their documents (upload with progress, status, delete). */
export function Knowledge({ id }: { path?: string; id?: string }) {
  const { route } = useLocation();
  const [collections, setCollections] = useState<Collection[]>([]);
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  useTitle("Knowledge");

  async function refresh() {
    try {
      setCollections((await get("/api/collections?limit=200")).data);
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
      const c = await post("/api/collections", { name });
      setName("");
      await refresh();
      route(`/knowledge/${c.id}`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  const current = collections.find((c) => c.id === id);
  return (
    <div class="page knowledge">
      <h1>Knowledge</h1>
      <p class="muted">Documents here ground chat answers with numbered citations. Attach a collection to a conversation with "Sources".</p>
      <div class="split">
        <section aria-label="Collections" class="collections">
          <form class="row-form" onSubmit={create}>
            <label class="grow">
              New collection
              <input value={name} required placeholder="Handbook" onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <button type="submit" class="primary">Create</button>
          </form>
          {error && <p class="error" role="alert">{error}</p>}
          <ul class="list">
            {collections.map((c) => (
              <li key={c.id} class={c.id === id ? "active" : ""}>
                <a href={`/knowledge/${c.id}`} aria-current={c.id === id ? "page" : undefined}>
                  {c.name}
                </a>
              </li>
            ))}
            {collections.length === 0 && <li class="muted">No collections yet.</li>}
          </ul>
        </section>
        <section aria-label="Documents" class="documents">
          {current ? (
            <CollectionView
              key={current.id}
              collection={current}
              onDeleted={async () => {
                await refresh();
                route("/knowledge");
              }}
            />
          ) : (
            <p class="muted">{id ? "Loading…" : "Choose or create a collection."}</p>
          )}
        </section>
      </div>
    </div>
  );
}

function CollectionView({ collection, onDeleted }: { collection: Collection; onDeleted: () => void }) {
  const [docs, setDocs] = useState<Doc[]>([]);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState("");
  const [dragging, setDragging] = useState(false);

  async function refresh() {
    try {
      setDocs((await get(`/api/documents?collection_id=${collection.id}&limit=200`)).data);
    } catch (err) {
      setError(errorText(err));
    }
  }
  useEffect(() => {
    refresh();
  }, [collection.id]);
  // Follow ingestion until every document is indexed or failed.
  const working = docs.some((d) => d.status !== "indexed" && d.status !== "failed");
  useInterval(refresh, 1000, working);

  async function send(files: FileList | File[]) {
    for (const file of Array.from(files)) {
      const entry: Upload = { name: file.name, progress: 0 };
      setUploads((u) => [...u, entry]);
      const form = new FormData();
      form.append("collection_id", collection.id);
      form.append("file", file, file.name);
      try {
        await upload("/api/documents", form, (p) => {
          entry.progress = p;
          setUploads((u) => [...u]);
        });
        setUploads((u) => u.filter((x) => x !== entry));
      } catch (err) {
        entry.error = errorText(err);
        setUploads((u) => [...u]);
      }
      refresh();
    }
  }

  async function remove(doc: Doc) {
    if (!confirm(`Delete "${doc.name}"?`)) return;
    try {
      await del(`/api/documents/${doc.id}`);
      refresh();
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function removeCollection() {
    if (!confirm(`Delete the collection "${collection.name}" and all its documents?`)) return;
    try {
      await del(`/api/collections/${collection.id}`);
      onDeleted();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <div>
      <div class="row spread">
        <h2>{collection.name}</h2>
        <button type="button" class="danger" onClick={removeCollection}>
          Delete collection
        </button>
      </div>
      <label
        class={`dropzone ${dragging ? "dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          if (e.dataTransfer?.files.length) send(e.dataTransfer.files);
        }}
      >
        <input
          type="file"
          multiple
          accept=".pdf,.docx,.html,.htm,.md,.markdown,.txt,text/*"
          aria-label="Upload documents"
          onChange={(e) => {
            const files = e.currentTarget.files;
            if (files?.length) send(Array.from(files));
            e.currentTarget.value = "";
          }}
        />
        <span>Drop files here or <u>choose files</u> (PDF, DOCX, HTML, Markdown, text)</span>
      </label>
      {uploads.map((u) => (
        <div class="upload" key={u.name}>
          <span>{u.name}</span>
          {u.error ? (
            <span class="error">{u.error}</span>
          ) : (
            <progress max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />
          )}
        </div>
      ))}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="table-wrap">
        <table class="docs">
          <caption class="visually-hidden">Documents</caption>
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Status</th>
              <th>Added</th>
              <th><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {docs.map((d) => (
              <tr key={d.id} data-status={d.status}>
                <td>{d.name}</td>
                <td>{formatBytes(d.bytes)}</td>
                <td>
                  <span class={`badge ${d.status}`}>{d.status}</span>
                  {d.status === "embedding" && d.chunks_total > 0 && (
                    <span class="muted"> {d.chunks_done}/{d.chunks_total}</span>
                  )}
                  {d.error && <div class="error small">{d.error}</div>}
                </td>
                <td>{formatTime(d.created_at)}</td>
                <td>
                  <button type="button" class="link danger" onClick={() => remove(d)} aria-label={`Delete ${d.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {docs.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">No documents yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
