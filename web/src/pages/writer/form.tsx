import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post } from "../../api";
import { useSession } from "../../session";
import { errorText } from "../../util";
import type { ArticleView } from "./types";

type Mode = { name: string; description: string };
type Collection = { id: string; name: string };

/** A new article: topic, mode and the options POST /api/articles takes. */
export function NewArticleForm({ onCreated }: { onCreated: (article: ArticleView) => void }) {
  const { session } = useSession();
  const models = session.tier?.chat_models ?? [];
  const [modes, setModes] = useState<Mode[]>([]);
  const [collections, setCollections] = useState<Collection[] | null>(null);
  const [topic, setTopic] = useState("");
  const [mode, setMode] = useState("blog");
  const [model, setModel] = useState(session.tier?.default_model ?? "");
  const [sections, setSections] = useState(4);
  const [words, setWords] = useState(150);
  const [review, setReview] = useState(true);
  const [team, setTeam] = useState(false);
  const [grounding, setGrounding] = useState<string[]>([]);
  const [error, setError] = useState<{ message: string; param?: string | null } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get("/api/articles/modes")
      .then((r) => setModes(r.data))
      .catch((err) => setError({ message: errorText(err) }));
    get("/api/collections?limit=200")
      .then((r) => setCollections(r.data))
      .catch(() => setCollections([]));
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const article = await post<ArticleView>("/api/articles", {
        topic,
        mode,
        model: model || undefined,
        sections,
        words_per_section: words,
        review_outline: review,
        team,
        collections: grounding,
      });
      onCreated(article);
    } catch (err) {
      setError({ message: errorText(err), param: err instanceof ApiError ? err.param : null });
    } finally {
      setBusy(false);
    }
  }

  // The field the server named in its refusal is marked invalid and described by the message.
  const invalid = (param: string) =>
    error?.param === param ? { "aria-invalid": true, "aria-describedby": "writer-form-error" } : {};
  const description = modes.find((m) => m.name === mode)?.description;

  return (
    <form class="card writer-form" onSubmit={submit} aria-labelledby="writer-form-title">
      <h2 id="writer-form-title">New article</h2>
      <label>
        Topic
        <textarea
          rows={2}
          required
          maxLength={300}
          value={topic}
          placeholder="Why hikers build cairns on mountain paths"
          onInput={(e) => setTopic(e.currentTarget.value)}
          {...invalid("topic")}
        />
      </label>
      <div class="fields">
        <div class="field">
          <label>
            Mode
            <select value={mode} onChange={(e) => setMode(e.currentTarget.value)} aria-describedby="writer-mode-hint" {...invalid("mode")}>
              {(modes.length ? modes : [{ name: "blog", description: "" }]).map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
          <span id="writer-mode-hint" class="muted small">{description}</span>
        </div>
        <label>
          Model
          <select value={model} onChange={(e) => setModel(e.currentTarget.value)} {...invalid("model")}>
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sections
          <input
            type="number"
            min={2}
            max={8}
            required
            value={sections}
            onInput={(e) => setSections(e.currentTarget.valueAsNumber)}
            {...invalid("sections")}
          />
        </label>
        <label>
          Words per section
          <input
            type="number"
            min={30}
            max={1000}
            step={10}
            required
            value={words}
            onInput={(e) => setWords(e.currentTarget.valueAsNumber)}
            {...invalid("words_per_section")}
          />
        </label>
      </div>
      <label class="check">
        <input type="checkbox" checked={review} onChange={(e) => setReview(e.currentTarget.checked)} />
        Let me review the outline before the sections are written
      </label>
      <label class="check">
        <input type="checkbox" checked={team} onChange={(e) => setTeam(e.currentTarget.checked)} />
        Write as a team: a researcher gathers notes, an editor reviews each section
      </label>
      <fieldset class="grounding" {...invalid("collections")}>
        <legend>Ground it in knowledge collections</legend>
        {collections === null && <span class="muted">Loading…</span>}
        {collections?.length === 0 && (
          <span class="muted">
            No collections yet. <a href="/knowledge">Create one</a>.
          </span>
        )}
        {collections?.map((c) => (
          <label key={c.id} class="check">
            <input
              type="checkbox"
              checked={grounding.includes(c.id)}
              onChange={(e) =>
                setGrounding(e.currentTarget.checked ? [...grounding, c.id] : grounding.filter((g) => g !== c.id))
              }
            />
            {c.name}
          </label>
        ))}
      </fieldset>
      {error && (
        <p class="error" role="alert" id="writer-form-error">
          {error.message}
        </p>
      )}
      <div class="row">
        <button type="submit" class="primary" disabled={busy || !topic.trim()}>
          {busy ? "Starting…" : "Write article"}
        </button>
      </div>
    </form>
  );
}
