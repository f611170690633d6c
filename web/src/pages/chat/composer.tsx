import { useState } from "preact/hooks";
import { useAutofocus } from "../../util";

/** The message box: Enter sends, Shift+Enter starts a new line; Stop while answering. */
export function Composer({
  busy,
  onSend,
  onStop,
}: {
  busy: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
}) {
  const [text, setText] = useState("");
  const box = useAutofocus<HTMLTextAreaElement>();

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
