import { useEffect, useState } from "preact/hooks";
import { renderMarkdown } from "../../markdown";
import { formatTime, useAutofocus } from "../../util";
import type { Article } from "./types";

/**
 * The finished article: read (rendered Markdown), or edit (Markdown with a live preview) and
 * save; download as Markdown or HTML (what the server exports: the saved edit, if any).
 */
export function FinishedArticle({
  id,
  article,
  onSave,
}: {
  id: string;
  article: Article;
  /** Saves the text (null: back to the generated text); resolves when stored. */
  onSave: (markdown: string | null) => Promise<boolean>;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(article.markdown);
  const [saving, setSaving] = useState(false);
  const dirty = draft !== article.markdown;
  // A new text from the server (saved, reverted, re-run) replaces a draft with no changes.
  useEffect(() => {
    if (!editing) setDraft(article.markdown);
  }, [article.markdown]);

  async function save(markdown: string | null) {
    setSaving(true);
    const ok = await onSave(markdown);
    setSaving(false);
    if (ok) setEditing(false);
  }

  return (
    <section class="finished" aria-labelledby="article-title">
      <div class="row spread">
        <h3 id="article-title">Article</h3>
        <div class="row" role="group" aria-label="Article actions">
          {!editing && (
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
          )}
          {/* A named download: the router leaves links with a (non-empty) download alone. */}
          <a class="button" href={`/api/articles/${id}/export?format=md`} download={`article-${id}.md`}>
            Download Markdown
          </a>
          <a class="button" href={`/api/articles/${id}/export?format=html`} download={`article-${id}.html`}>
            Download HTML
          </a>
        </div>
      </div>
      <p class="muted small">
        {article.words} words · {article.reading_minutes} min read
        {article.edited_at !== null && ` · edited by you ${formatTime(article.edited_at)}`}
      </p>
      {article.meta_description && (
        <p class="meta-description">
          <span class="muted small">Meta description: </span>
          {article.meta_description}
        </p>
      )}
      {article.keywords.length > 0 && (
        <ul class="keywords" aria-label="Keywords">
          {article.keywords.map((k) => (
            <li key={k} class="badge">
              {k}
            </li>
          ))}
        </ul>
      )}
      {article.outdated_edit !== null && (
        <div class="notice" role="status">
          <p>
            The article was written again after you edited it, and the text changed. Your edited version is kept
            aside.
          </p>
          <div class="row">
            <button type="button" disabled={saving} onClick={() => save(article.outdated_edit)}>
              Restore my edit
            </button>
            <button type="button" class="danger" disabled={saving} onClick={() => confirm("Discard your earlier edit?") && save(null)}>
              Discard it
            </button>
          </div>
        </div>
      )}
      {editing ? (
        <form
          class="editor"
          onSubmit={(e) => {
            e.preventDefault();
            save(draft);
          }}
          onKeyDown={(e) => {
            if (e.key === "Escape" && !dirty) setEditing(false);
          }}
        >
          <div class="editor-panes">
            <MarkdownSource value={draft} onInput={setDraft} />
            <div class="editor-preview" aria-label="Preview" role="region">
              <span class="muted small">Preview</span>
              <div class="markdown card" dangerouslySetInnerHTML={{ __html: renderMarkdown(draft, 0, false) }} />
            </div>
          </div>
          {dirty && <p class="muted small">Save to have your changes in the downloads.</p>}
          <div class="row">
            <button type="submit" class="primary" disabled={saving || !draft.trim() || !dirty}>
              {saving ? "Saving…" : "Save"}
            </button>
            <button
              type="button"
              onClick={() => {
                if (!dirty || confirm("Discard your changes?")) {
                  setDraft(article.markdown);
                  setEditing(false);
                }
              }}
            >
              Cancel
            </button>
            {article.edited_at !== null && (
              <button
                type="button"
                class="link danger"
                disabled={saving}
                onClick={() => confirm("Go back to the generated text? Your edits are lost.") && save(null)}
              >
                Revert to the generated text
              </button>
            )}
          </div>
        </form>
      ) : (
        <article class="markdown card article-body" dangerouslySetInnerHTML={{ __html: renderMarkdown(article.markdown) }} />
      )}
    </section>
  );
}

function MarkdownSource({ value, onInput }: { value: string; onInput: (text: string) => void }) {
  const ref = useAutofocus<HTMLTextAreaElement>();
  return (
    <label class="editor-source">
      Markdown
      <textarea ref={ref} value={value} rows={20} spellcheck onInput={(e) => onInput(e.currentTarget.value)} />
    </label>
  );
}
