import { useEffect, useRef, useState } from "preact/hooks";
import { del, get, patch } from "../../api";
import { errorText, formatTime, useAutofocus } from "../../util";
import { PencilIcon, TrashIcon } from "../../icons";

type Item = { id: string; title: string; updated_at: number };
type Page = { data: Item[]; has_more: boolean; next_before: number | null; next_before_id: string | null };
/** Where the next page starts: after this time, and this id among those of the same time. */
type Cursor = { before: number; before_id: string };

function nextOf(page: Page): Cursor | null {
  return page.has_more && page.next_before !== null
    ? { before: page.next_before, before_id: page.next_before_id ?? "" }
    : null;
}

const PAGE = 50;

/**
 * The user's conversations, newest first, fetched a page at a time as the list scrolls
 * (a history of thousands stays light), searchable by title and content.
 */
export function ConversationList({
  activeId,
  version,
  onClose,
  onDeleted,
  onRenamed,
}: {
  activeId?: string;
  version: number;
  onClose: () => void;
  onDeleted: (id: string) => void;
  onRenamed: (id: string, title: string) => void;
}) {
  const [items, setItems] = useState<Item[]>([]);
  const [next, setNext] = useState<Cursor | null>(null);
  const [query, setQuery] = useState("");
  const [error, setError] = useState("");
  const [renaming, setRenaming] = useState<string | null>(null);
  const sentinel = useRef<HTMLLIElement>(null);
  const loading = useRef(false);

  function url(after: Cursor | null) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (query.trim()) params.set("q", query.trim());
    if (after) {
      params.set("before", String(after.before));
      if (after.before_id) params.set("before_id", after.before_id);
    }
    return `/api/conversations?${params}`;
  }

  async function loadFirst() {
    try {
      const page = await get<Page>(url(null));
      setItems(page.data);
      setNext(nextOf(page));
      setError("");
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function loadMore() {
    if (loading.current || next === null) return;
    loading.current = true;
    try {
      const page = await get<Page>(url(next));
      setItems((old) => {
        const seen = new Set(old.map((o) => o.id));
        return [...old, ...page.data.filter((d) => !seen.has(d.id))];
      });
      setNext(nextOf(page));
    } catch (err) {
      setError(errorText(err));
    } finally {
      loading.current = false;
    }
  }

  // Search as the user types, a moment after they stop.
  useEffect(() => {
    const t = setTimeout(loadFirst, query ? 250 : 0);
    return () => clearTimeout(t);
  }, [query, version]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [next, query]);

  async function rename(id: string, title: string) {
    setRenaming(null);
    const item = items.find((i) => i.id === id);
    if (!item || !title.trim() || title === item.title) return;
    try {
      await patch(`/api/conversations/${id}`, { title });
      setItems((old) => old.map((i) => (i.id === id ? { ...i, title: title.trim() } : i)));
      onRenamed(id, title.trim());
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function remove(item: Item) {
    if (!confirm(`Delete "${item.title}"? This cannot be undone.`)) return;
    try {
      await del(`/api/conversations/${item.id}`);
      setItems((old) => old.filter((i) => i.id !== item.id));
      onDeleted(item.id);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <aside class="sidebar" aria-label="Conversations">
      <div class="sidebar-head">
        <input
          type="search"
          placeholder="Search conversations"
          aria-label="Search conversations"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="button" class="icon close-list" onClick={onClose} aria-label="Hide conversations">
          ✕
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      <ul class="conversations">
        {items.map((item) => (
          <li key={item.id} class={item.id === activeId ? "active" : ""}>
            {renaming === item.id ? (
              <RenameBox
                title={item.title}
                onDone={(title) => rename(item.id, title)}
                onCancel={() => setRenaming(null)}
              />
            ) : (
              <a href={`/chat/${item.id}`} aria-current={item.id === activeId ? "page" : undefined}>
                <span class="title">{item.title}</span>
                <span class="when">{formatTime(item.updated_at)}</span>
              </a>
            )}
            <div class="item-actions">
              <button type="button" class="icon" aria-label={`Rename ${item.title}`} onClick={() => setRenaming(item.id)}>
                <PencilIcon />
              </button>
              <button type="button" class="icon" aria-label={`Delete ${item.title}`} onClick={() => remove(item)}>
                <TrashIcon />
              </button>
            </div>
          </li>
        ))}
        {next !== null && (
          <li ref={sentinel} class="more">
            <button type="button" class="link" onClick={loadMore}>
              Load more
            </button>
          </li>
        )}
        {items.length === 0 && !error && (
          <li class="muted none">{query ? "Nothing found." : "No conversations yet."}</li>
        )}
      </ul>
    </aside>
  );
}

function RenameBox({
  title,
  onDone,
  onCancel,
}: {
  title: string;
  onDone: (title: string) => void;
  onCancel: () => void;
}) {
  const ref = useAutofocus<HTMLInputElement>();
  return (
    <input
      ref={ref}
      class="rename"
      aria-label="New title"
      defaultValue={title}
      onKeyDown={(e) => {
        if (e.key === "Enter") onDone(e.currentTarget.value);
        if (e.key === "Escape") onCancel();
      }}
      onBlur={(e) => onDone(e.currentTarget.value)}
    />
  );
}
