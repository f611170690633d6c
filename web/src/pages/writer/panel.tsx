import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, del, get, patch, post } from "../../api";
import { errorText, formatTime, useInterval, useTitle } from "../../util";
import { FinishedArticle } from "./article";
import { OriginalityReport } from "./originality";
import { OutlineEditor } from "./outline";
import { StageList } from "./stages";
import { type ArticleView, type Outline, STATUS_LABELS, stageLabel } from "./types";

/** The outline the sections were written from: the reviewed one, else the model's. */
function outlineOf(article: ArticleView): Outline | null {
  const stage = (name: string) =>
    article.stages.find((s) => s.stage === name && (s.status === "succeeded" || s.status === "skipped") && s.output);
  return ((stage("approved_outline") ?? stage("outline"))?.output as Outline | undefined) ?? null;
}

/** How often a running article is asked for while it is being written. */
const POLL_MS = 1000;

/**
 * One article: its stages as they progress (polled while it is written), the outline to
 * review when it waits, then the article to read, edit and download, and its originality.
 */
export function ArticlePanel({
  id,
  focus,
  onChanged,
}: {
  id: string;
  /** Move the keyboard focus to the article's heading once it is shown (just created). */
  focus: boolean;
  /** The article's status or title changed: the list of articles is out of date. */
  onChanged: () => void;
}) {
  const { route } = useLocation();
  const [article, setArticle] = useState<ArticleView | null>(null);
  const [loadError, setLoadError] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const lastStatus = useRef<string | null>(null);
  useTitle(article?.article?.title ?? article?.topic ?? "Writer");

  function show(a: ArticleView) {
    setArticle(a);
    if (lastStatus.current !== null && lastStatus.current !== a.status) onChanged();
    lastStatus.current = a.status;
  }

  async function load() {
    try {
      show(await get<ArticleView>(`/api/articles/${id}`));
      setLoadError("");
    } catch (err) {
      setLoadError(err instanceof ApiError && err.status === 404 ? "This article does not exist." : errorText(err));
    }
  }
  useEffect(() => {
    load();
  }, [id]);
  useEffect(() => {
    if (focus && article) heading.current?.focus();
  }, [focus, article !== null]);
  useInterval(load, POLL_MS, article?.status === "running");

  /** Runs a request that answers the article, showing its refusal if any. */
  async function act(request: () => Promise<ArticleView | null>): Promise<boolean> {
    setError("");
    setBusy(true);
    try {
      const a = await request();
      if (a) show(a);
      else await load();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function remove(name: string) {
    if (!confirm(`Delete the article "${name}"?`)) return;
    setError("");
    setBusy(true);
    try {
      await del(`/api/runs/${id}`);
      onChanged();
      route("/writer");
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  if (loadError) return <p class="error" role="alert">{loadError}</p>;
  if (!article) return <p class="muted">Loading…</p>;

  const running = article.stages.find((s) => s.status === "running");
  const status =
    article.status === "running"
      ? `Writing: ${running ? stageLabel(running.stage) : "starting"}…`
      : article.status === "waiting"
        ? "Waiting for your review of the outline."
        : article.status === "succeeded"
          ? "Finished."
          : article.status === "cancelled"
            ? "Cancelled."
            : "Failed.";

  return (
    <div class="article-panel">
      <a class="back" href="/writer">
        ← All articles
      </a>
      <header class="article-head">
        <h2 ref={heading} tabIndex={-1}>
          {article.article?.title ?? article.topic}
        </h2>
        <p class="muted small">
          <span class={`badge ${article.status}`}>{STATUS_LABELS[article.status]}</span> {article.mode}
          {article.team && " · team"} · started {formatTime(article.created_at)}
          {article.article && ` · topic: ${article.topic}`}
        </p>
        <p class="status-line" role="status" aria-live="polite">
          {status}
        </p>
        {article.error && (
          <p class="error" role="alert">
            {article.error}
          </p>
        )}
        <div class="row">
          {(article.status === "running" || article.status === "waiting") && (
            <button type="button" class="stop" disabled={busy} onClick={() => act(() => post(`/api/runs/${id}/cancel`).then(() => null))}>
              Cancel
            </button>
          )}
          {article.status !== "running" && (
            <button
              type="button"
              class="link danger"
              disabled={busy}
              onClick={() => remove(article.article?.title ?? article.topic)}
            >
              Delete
            </button>
          )}
        </div>
      </header>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {article.status === "waiting" && article.outline && (
        <OutlineEditor
          outline={article.outline}
          busy={busy}
          onContinue={(outline: Outline) => act(() => post(`/api/articles/${id}/continue`, { outline }))}
        />
      )}
      {article.article && (
        <FinishedArticle
          id={id}
          article={article.article}
          onSave={async (markdown) => {
            const ok = await act(() => patch(`/api/articles/${id}`, { markdown }));
            if (ok) onChanged();
            return ok;
          }}
        />
      )}
      {article.originality && (
        <OriginalityReport
          report={article.originality}
          headings={outlineOf(article)?.sections.map((s) => s.heading) ?? []}
          edited={article.article?.edited_at != null}
        />
      )}
      <StageList article={article} onRerun={(stage) => act(() => post(`/api/articles/${id}/stages/${stage}/rerun`))} />
    </div>
  );
}
