import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get } from "../api";
import { PlusIcon } from "../icons";
import { errorText, formatTime, useTitle } from "../util";
import { NewArticleForm } from "./writer/form";
import { ArticlePanel } from "./writer/panel";
import { type ArticleSummary, STATUS_LABELS } from "./writer/types";

const PAGE = 50;

/**
 * The article writer: a topic and a mode start an article; its stages progress live, the
 * outline can be edited before the sections are written, and the result is read, edited,
 * checked for originality and downloaded. The user's articles are listed beside.
 */
export function Writer({ id }: { path?: string; id?: string }) {
  const { route } = useLocation();
  const [articles, setArticles] = useState<ArticleSummary[]>([]);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [error, setError] = useState("");
  // The article this page just started: its heading takes the focus when it shows.
  const created = useRef<string | null>(null);
  useTitle(id ? "Article" : "Writer");

  async function refresh() {
    try {
      const page = await get(`/api/articles?limit=${PAGE}`);
      setArticles(page.data);
      setNextBefore(page.has_more ? page.next_before : null);
      setError("");
    } catch (err) {
      setError(errorText(err));
    }
  }
  useEffect(() => {
    refresh();
  }, []);

  async function more() {
    try {
      const page = await get(`/api/articles?limit=${PAGE}&before=${nextBefore}`);
      setArticles([...articles, ...page.data]);
      setNextBefore(page.has_more ? page.next_before : null);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <div class={`page writer ${id ? "has-article" : ""}`}>
      <h1>Writer</h1>
      <p class="muted">
        Articles written stage by stage by the model: keywords, an outline you can edit, sections, an edit in the writing
        mode, an originality check.
      </p>
      <div class="split writer-split">
        <section aria-labelledby="articles-title" class="articles">
          <div class="row spread">
            <h2 id="articles-title">Your articles</h2>
            {id && (
              <a class="button" href="/writer">
                <PlusIcon /> New
              </a>
            )}
          </div>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <ul class="list article-list">
            {articles.map((a) => (
              <li key={a.id} class={a.id === id ? "active" : ""}>
                <a href={`/writer/${a.id}`} aria-current={a.id === id ? "page" : undefined}>
                  <span class="article-name">{a.title ?? a.topic}</span>
                  <span class="small muted">
                    <span class={`badge ${a.status}`}>{STATUS_LABELS[a.status]}</span> {a.mode} · {formatTime(a.created_at)}
                  </span>
                </a>
              </li>
            ))}
            {articles.length === 0 && !error && <li class="muted">No articles yet.</li>}
          </ul>
          {nextBefore !== null && (
            <button type="button" class="link" onClick={more}>
              Show more
            </button>
          )}
        </section>
        <div class="writer-main">
          {id ? (
            <ArticlePanel key={id} id={id} focus={created.current === id} onChanged={refresh} />
          ) : (
            <NewArticleForm
              onCreated={(article) => {
                created.current = article.id;
                refresh();
                route(`/writer/${article.id}`);
              }}
            />
          )}
        </div>
      </div>
    </div>
  );
}
