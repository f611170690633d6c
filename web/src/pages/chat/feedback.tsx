import { useRef, useState } from "preact/hooks";
import { ThumbDownIcon, ThumbUpIcon } from "../../icons";
import { useAutofocus } from "../../util";

export type Rating = "up" | "down";
export type Feedback = { rating: Rating; comment: string | null; updated_at: number };

/** Longest comment the server keeps (api/feedback.rs). */
const MAX_COMMENT = 2000;

/**
 * Thumbs up and down on an answer, stored for the data flywheel. Choosing one saves it and
 * opens a small comment box (Enter saves, Escape closes); choosing the pressed one again
 * takes the rating back.
 */
export function FeedbackButtons({
  feedback,
  onChange,
}: {
  feedback: Feedback | null;
  /** `null` takes the feedback back. Resolves once the server has it, rejects if it failed. */
  onChange: (rating: Rating | null, comment: string | null) => Promise<void>;
}) {
  const [open, setOpen] = useState(false);
  // Not `disabled` while saving: that would take the keyboard focus away from the button.
  const saving = useRef(false);
  const up = useRef<HTMLButtonElement>(null);
  const down = useRef<HTMLButtonElement>(null);
  const rating = feedback?.rating ?? null;

  async function choose(choice: Rating) {
    if (saving.current) return;
    saving.current = true;
    try {
      if (choice === rating) {
        setOpen(false);
        await onChange(null, null);
      } else {
        // A change of mind keeps what was said; the box opens to adjust it.
        await onChange(choice, feedback?.comment ?? null);
        setOpen(true);
      }
    } catch {
      // The page shows what went wrong.
    } finally {
      saving.current = false;
    }
  }

  function close() {
    setOpen(false);
    (rating === "down" ? down : up).current?.focus();
  }

  return (
    <>
      <button
        ref={up}
        type="button"
        class={`icon rate ${rating === "up" ? "chosen" : ""}`}
        aria-label="Good answer"
        title="Good answer"
        aria-pressed={rating === "up"}
        onClick={() => choose("up")}
      >
        <ThumbUpIcon />
      </button>
      <button
        ref={down}
        type="button"
        class={`icon rate ${rating === "down" ? "chosen" : ""}`}
        aria-label="Bad answer"
        title="Bad answer"
        aria-pressed={rating === "down"}
        onClick={() => choose("down")}
      >
        <ThumbDownIcon />
      </button>
      {rating && !open && feedback?.comment && (
        <button type="button" class="link feedback-comment" onClick={() => setOpen(true)} title="Edit your comment">
          “{feedback.comment}”
        </button>
      )}
      {rating && open && (
        <CommentForm
          rating={rating}
          initial={feedback?.comment ?? ""}
          onSave={async (comment) => {
            await onChange(rating, comment.trim() || null);
            close();
          }}
          onClose={close}
        />
      )}
    </>
  );
}

function CommentForm({
  rating,
  initial,
  onSave,
  onClose,
}: {
  rating: Rating;
  initial: string;
  onSave: (comment: string) => Promise<void>;
  onClose: () => void;
}) {
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const box = useAutofocus<HTMLTextAreaElement>();

  async function submit(e?: Event) {
    e?.preventDefault();
    if (saving) return;
    setSaving(true);
    try {
      await onSave(text);
    } catch {
      // The page shows what went wrong; the box stays open with the text.
    } finally {
      setSaving(false);
    }
  }

  return (
    <form
      class="feedback-form"
      aria-label="Feedback comment"
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <textarea
        ref={box}
        rows={2}
        maxLength={MAX_COMMENT}
        value={text}
        aria-label="Comment (optional)"
        placeholder={rating === "up" ? "What was good? (optional)" : "What went wrong? (optional)"}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
        }}
      />
      <div class="row">
        <button type="submit" class="primary" disabled={saving}>
          Save
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}
