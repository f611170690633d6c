import { useEffect, useState } from "preact/hooks";
import { useAutofocus } from "../../util";

/** Text to put in the box from outside (a template), once per distinct object. */
export type Draft = { text: string };

/**
 * The message box: Enter sends, Shift+Enter starts a new line; Stop while answering. It keeps
 * its own text, so typing re-renders only the box, never the conversation above it.
 */
export function Composer({
  busy,
  draft,
  onSend,
  onStop,
}: {
  busy: boolean;
  draft?: Draft | null;
  onSend: (text: string) => void;
  onStop: () => void;
}) {
  const [text, setText] = useState("");
  const box = useAutofocus<HTMLTextAreaElement>();

  useEffect(() => {
    if (!draft) return;
    setText(draft.text);
    const el = box.current;
    if (el) {
      el.focus();
      // The cursor at the end, ready to add to it.
      requestAnimationFrame(() => el.setSelectionRange(el.value.length, el.value.length));
    }
  }, [draft]);

  function submit(e?: Event) {
    e?.preventDefault();
    if (busy || !text.trim()) return;
    onSend(text);
    setText("");
    box.current?.focus();
  }

  return (
    <form class="composer" onSubmit={submit}>
      <textarea
        ref={box}
        value={text}
        rows={Math.min(8, Math.max(1, text.split("\n").length))}
        placeholder="Message Cairn"
        aria-label="Message"
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
          if (e.key === "Escape" && busy) onStop();
        }}
      />
      {busy ? (
        <button type="button" class="stop" onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="submit" class="primary" disabled={!text.trim()}>
          Send
        </button>
      )}
    </form>
  );
}
