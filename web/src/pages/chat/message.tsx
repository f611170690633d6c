import { memo } from "preact/compat";
import { useState } from "preact/hooks";
import { renderMarkdown } from "../../markdown";
import { useAutofocus } from "../../util";
import { Feedback, FeedbackButtons, Rating } from "./feedback";

export type Citation = {
  index: number;
  document_id: string;
  document_name: string;
  collection_id: string;
  chunk_id: string;
  heading_path: string[];
  page: number | null;
  snippet: string;
};

export type Message = {
  id: string;
  role: string;
  content: string;
  seq: number;
  model?: string | null;
  created_at: number;
  citations?: Citation[];
  /** The reader's own thumbs up or down, on an answer. */
  feedback?: Feedback | null;
};

/** Stored on the server (not the one being written, nor a stopped one not yet stored). */
export function isStored(m: Message): boolean {
  return m.id !== "pending" && !m.id.startsWith("partial-");
}

function EditBox(props: {
  value: string;
  onInput: (e: any) => void;
  onKeyDown: (e: KeyboardEvent) => void;
}) {
  const ref = useAutofocus<HTMLTextAreaElement>();
  return <textarea ref={ref} aria-label="Edit message" {...props} />;
}

/** Clicks on the `[n]` buttons inside rendered Markdown. */
function citeClick(onCite: (n: number) => void) {
  return (e: MouseEvent) => {
    const target = (e.target as HTMLElement).closest("button.cite") as HTMLElement | null;
    if (target?.dataset.cite) onCite(Number(target.dataset.cite));
  };
}

function Citations({ citations, onCite }: { citations: Citation[]; onCite: (n: number) => void }) {
  return (
    <ol class="citations" aria-label="Sources">
      {citations.map((c) => (
        <li key={c.index}>
          <button type="button" class="chip" onClick={() => onCite(c.index)}>
            <span class="chip-n">{c.index}</span> {c.document_name}
            {c.page ? `, p. ${c.page}` : ""}
          </button>
        </li>
      ))}
    </ol>
  );
}

type Props = {
  message: Message;
  busy: boolean;
  isLastAnswer: boolean;
  onEdit: (content: string) => void;
  onRegenerate: () => void;
  onCite: (n: number) => void;
  onFeedback: (rating: Rating | null, comment: string | null) => Promise<void>;
};

/** One stored message. Memoised: a streaming answer re-renders only itself. */
export const MessageItem = memo(function MessageItem({
  message,
  busy,
  isLastAnswer,
  onEdit,
  onRegenerate,
  onCite,
  onFeedback,
}: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const citations = message.citations ?? [];
  const html = renderMarkdown(message.content, citations.length);

  if (message.role === "user") {
    return (
      <article class="message user" aria-label="You">
        {editing ? (
          <form
            class="edit"
            onSubmit={(e) => {
              e.preventDefault();
              if (!draft.trim()) return;
              setEditing(false);
              onEdit(draft);
            }}
          >
            <EditBox
              value={draft}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape") setEditing(false);
              }}
            />
            <div class="row">
              <button type="submit" class="primary">Send</button>
              <button type="button" onClick={() => setEditing(false)}>Cancel</button>
            </div>
          </form>
        ) : (
          <>
            <div class="bubble">{message.content}</div>
            {isStored(message) && (
              <div class="actions">
                <button
                  type="button"
                  class="link"
                  disabled={busy}
                  onClick={() => {
                    setDraft(message.content);
                    setEditing(true);
                  }}
                >
                  Edit
                </button>
              </div>
            )}
          </>
        )}
      </article>
    );
  }
  return (
    <article class="message assistant" aria-label="Cairn">
      <div class="markdown" onClick={citeClick(onCite)} dangerouslySetInnerHTML={{ __html: html }} />
      {citations.length > 0 && <Citations citations={citations} onCite={onCite} />}
      <div class="actions">
        {message.model && <span class="muted">{message.model}</span>}
        <button type="button" class="link" onClick={() => navigator.clipboard?.writeText(message.content)}>
          Copy
        </button>
        {isLastAnswer && (
          <button type="button" class="link" disabled={busy} onClick={onRegenerate}>
            Regenerate
          </button>
        )}
        {isStored(message) && <FeedbackButtons feedback={message.feedback ?? null} onChange={onFeedback} />}
      </div>
    </article>
  );
},
// Callbacks are left out on purpose: the page passes ones that call its latest handlers.
(a, b) => a.message === b.message && a.busy === b.busy && a.isLastAnswer === b.isLastAnswer);

/** The answer being written. */
export function StreamingItem({
  text,
  citations,
  onCite,
}: {
  text: string;
  citations: Citation[];
  onCite: (n: number) => void;
}) {
  const html = renderMarkdown(text, citations.length, false);
  return (
    <article class="message assistant streaming" aria-label="Cairn is answering">
      {text ? (
        <div class="markdown" onClick={citeClick(onCite)} dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <div class="typing" aria-label="Thinking">
          <span />
          <span />
          <span />
        </div>
      )}
      {citations.length > 0 && <Citations citations={citations} onCite={onCite} />}
    </article>
  );
}
