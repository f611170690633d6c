import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "../../api";

type Collection = { id: string; name: string };

/** Which knowledge collections ground the answers. */
export function CollectionPicker({
  selected,
  onChange,
}: {
  selected: string[];
  onChange: (ids: string[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [collections, setCollections] = useState<Collection[] | null>(null);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    get("/api/collections?limit=200").then((r) => setCollections(r.data)).catch(() => setCollections([]));
    const close = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("click", close);
    return () => document.removeEventListener("click", close);
  }, [open]);

  function toggle(id: string) {
    onChange(selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id]);
  }

  return (
    <div class="popover-root" ref={root}>
      <button
        type="button"
        aria-expanded={open}
        aria-haspopup="true"
        onClick={() => setOpen(!open)}
        class={selected.length ? "attached" : ""}
      >
        Sources{selected.length ? ` (${selected.length})` : ""}
      </button>
      {open && (
        <div
          class="popover"
          role="group"
          aria-label="Knowledge collections"
          onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
        >
          {collections === null && <p class="muted">Loading…</p>}
          {collections?.length === 0 && (
            <p class="muted">
              No collections yet. <a href="/knowledge">Create one</a>.
            </p>
          )}
          {collections?.map((c) => (
            <label key={c.id} class="check">
              <input type="checkbox" checked={selected.includes(c.id)} onChange={() => toggle(c.id)} />
              {c.name}
            </label>
          ))}
        </div>
      )}
    </div>
  );
}
