import { useState } from "preact/hooks";
import { useInterval } from "../../util";
import { type ArticleView, type Stage, seconds, stageLabel } from "./types";

/**
 * Every stage of the article's workflow in order: done ones with their time and tokens,
 * the running one with a live clock, the rest still to come. Each started stage can be
 * re-run (with the stages that depend on it) once the article is not being written.
 */
export function StageList({
  article,
  onRerun,
}: {
  article: ArticleView;
  onRerun: (stage: string) => void;
}) {
  const running = article.status === "running";
  const [now, setNow] = useState(Date.now());
  useInterval(() => setNow(Date.now()), 500, running);
  const byName = new Map(article.stages.map((s) => [s.stage, s]));
  const names = article.all_stages.length ? article.all_stages : article.stages.map((s) => s.stage);
  const done = article.stages.filter((s) => s.status === "succeeded" || s.status === "skipped").length;

  return (
    <section class="stages" aria-labelledby="stages-title">
      <div class="row spread">
        <h3 id="stages-title">Stages</h3>
        <span class="muted small">
          {done} of {names.length} done · {article.tokens} tokens
        </span>
      </div>
      <ol class="stage-list">
        {names.map((name) => {
          const stage = byName.get(name);
          return (
            <StageRow
              key={name}
              name={name}
              stage={stage}
              now={now}
              waiting={article.status === "waiting" && stage?.status === "running"}
              canRerun={!running && stage !== undefined && stage.status !== "running"}
              onRerun={() => onRerun(name)}
            />
          );
        })}
      </ol>
    </section>
  );
}

function StageRow({
  name,
  stage,
  now,
  waiting,
  canRerun,
  onRerun,
}: {
  name: string;
  stage: Stage | undefined;
  now: number;
  /** The review the article is stopped at. */
  waiting: boolean;
  canRerun: boolean;
  onRerun: () => void;
}) {
  const status = waiting ? "waiting" : stage?.status ?? "pending";
  const elapsed = stage?.status === "running" ? Math.max(0, now - stage.started_at) : stage?.elapsed_ms ?? 0;
  const items = stage?.items ?? [];
  const itemsDone = items.filter((i) => i.status === "succeeded").length;
  // A per-section stage's tokens are its sections'.
  const tokens = items.length ? items.reduce((sum, i) => sum + i.tokens, 0) : stage?.tokens ?? 0;
  return (
    <li class={`stage ${status}`} data-stage={name} data-status={status}>
      <div class="stage-head">
        <span class={`badge ${status}`}>{status}</span>
        <span class="stage-name">{stageLabel(name)}</span>
        {stage && status !== "skipped" && status !== "waiting" && (
          <span class="muted small stage-meta">
            {seconds(elapsed)} · {tokens} tokens
            {stage.attempts > 1 && ` · attempt ${stage.attempts}`}
            {items.length > 0 && ` · ${itemsDone}/${items.length} sections`}
          </span>
        )}
        {canRerun && (
          <button type="button" class="link rerun" onClick={onRerun} aria-label={`Re-run ${stageLabel(name)}`}>
            Re-run
          </button>
        )}
      </div>
      {stage?.error && <p class="error small">{stage.error}</p>}
      {stage && <StageOutput stage={stage} />}
    </li>
  );
}

/** A short look at what a stage produced: keywords inline, the rest folded. */
function StageOutput({ stage }: { stage: Stage }) {
  if (stage.status !== "succeeded" && !(stage.items ?? []).some((i) => i.error)) return null;
  if (stage.stage === "keywords") {
    const keywords = (stage.output as { keywords?: string[] } | null)?.keywords ?? [];
    return <p class="small muted">{keywords.join(" · ")}</p>;
  }
  if (stage.stage === "originality" || stage.stage === "article" || stage.stage === "approved_outline") return null;
  const items = stage.items ?? [];
  return (
    <details class="stage-output">
      <summary class="small">{items.length ? "Each section" : "Output"}</summary>
      {items.length ? (
        <ol>
          {items.map((item) => (
            <li key={item.stage}>
              <span class={`badge ${item.status}`}>{item.status}</span>{" "}
              <span class="muted small">
                {seconds(item.elapsed_ms)} · {item.tokens} tokens
              </span>
              {item.error && <p class="error small">{item.error}</p>}
              {item.output != null && <pre class="snippet">{show(item.output)}</pre>}
            </li>
          ))}
        </ol>
      ) : (
        <pre class="snippet">{show(stage.output)}</pre>
      )}
    </details>
  );
}

function show(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}
