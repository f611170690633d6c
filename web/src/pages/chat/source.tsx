import { useEffect, useRef } from "preact/hooks";
import { Citation } from "./message";

/** The snippet a citation points to, in a modal dialog (Escape closes it). */
export function SourceDialog({ citation, onClose }: { citation: Citation; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, [citation]);
  return (
    <dialog ref={dialog} class="source" onClose={onClose} aria-labelledby="source-title">
      <header>
        <h3 id="source-title">
          <span class="chip-n">{citation.index}</span> {citation.document_name}
        </h3>
        <button type="button" class="icon" onClick={() => dialog.current?.close()} aria-label="Close">
          ✕
        </button>
      </header>
      {(citation.heading_path.length > 0 || citation.page) && (
        <p class="muted">
          {citation.heading_path.join(" › ")}
          {citation.page ? ` · page ${citation.page}` : ""}
        </p>
      )}
      <blockquote class="snippet">{citation.snippet}</blockquote>
      <p>
        <a href={`/knowledge/${citation.collection_id}`}>Open the collection</a>
      </p>
    </dialog>
  );
}
