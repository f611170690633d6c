import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, del, get, patch, post, postStream, put } from "../api";
import { useSession } from "../session";
import { errorText, useTitle } from "../util";
import { ConversationList } from "./chat/list";
import { Citation, Message, MessageItem, StreamingItem } from "./chat/message";
import { SourceDialog } from "./chat/source";
import { Composer, Draft } from "./chat/composer";
import { CollectionPicker } from "./chat/collections";
import { Feedback, Rating } from "./chat/feedback";
import { Starters, WritingMode } from "./chat/starters";
import { MenuIcon, PlusIcon } from "../icons";

type Conversation = {
  id: string;
  title: string;
  model: string | null;
  system_prompt: string | null;
  collections: string[];
  messages: Message[];
};

type Streaming = { text: string; citations: Citation[] };

/**
 * Messages shown at a time from the end of a long conversation; scrolling to the top (or the
 * button there) shows as many more. A 500-message conversation opens as fast as a short one.
 */
const WINDOW = 100;

export function Chat({ id }: { path?: string; id?: string }) {
  const { session } = useSession();
  const { route } = useLocation();
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [loadError, setLoadError] = useState("");
  const [streaming, setStreaming] = useState<Streaming | null>(null);
  const [error, setError] = useState("");
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState(session.tier?.default_model ?? "");
  const [pendingCollections, setPendingCollections] = useState<string[]>([]);
  const [source, setSource] = useState<Citation | null>(null);
  const [listOpen, setListOpen] = useState(false);
  const [listVersion, setListVersion] = useState(0);
  // A new conversation's writing mode (its system prompt), and text for the message box.
  const [mode, setMode] = useState<WritingMode | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  // The first message shown (see WINDOW); `anchor` keeps the view still while more appear.
  const [start, setStart] = useState(0);
  const anchor = useRef<number | null>(null);
  const settled = useRef(false);
  const earlier = useRef<HTMLButtonElement>(null);
  const abort = useRef<AbortController | null>(null);
  // The conversation this page just created and is streaming into: not reloaded on route.
  const created = useRef<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  useTitle(conversation?.title ?? "Chat");

  useEffect(() => {
    const allowed = new Set(session.tier?.chat_models ?? []);
    get("/v1/models")
      .then((list) => setModels(list.data.map((m: any) => m.id).filter((m: string) => allowed.has(m))))
      .catch((err) => setError(errorText(err)));
  }, []);

  useEffect(() => {
    setListOpen(false);
    setError("");
    if (!id) {
      setConversation(null);
      setLoadError("");
      setMode(null);
      setStart(0);
      return;
    }
    if (created.current === id) return;
    load(id);
  }, [id]);

  async function load(conversationId: string) {
    const reopened = conversation?.id === conversationId;
    if (!reopened) settled.current = false;
    try {
      const c = await get<Conversation>(`/api/conversations/${conversationId}`);
      setConversation(c);
      if (!reopened) setStart(Math.max(0, c.messages.length - WINDOW));
      if (c.model) setModel(c.model);
      setLoadError("");
      requestAnimationFrame(() => settleAtEnd());
    } catch (err) {
      setConversation(null);
      setLoadError(err instanceof ApiError && err.status === 404 ? "This conversation does not exist." : errorText(err));
    }
  }

  /**
   * Opens at the end, and stays there while the last messages settle (code blocks, tables and
   * fonts can change their height after the first layout): follows the end until it stays
   * put, for half a second at most.
   */
  function settleAtEnd(frames = 0) {
    const el = scroller.current;
    if (!el) return;
    const height = el.scrollHeight;
    el.scrollTop = height;
    // A frame later the messages now on screen have their real heights.
    requestAnimationFrame(() => {
      const moved = el.scrollHeight !== height || el.scrollHeight - el.scrollTop - el.clientHeight > 1;
      if (moved && frames < 30) settleAtEnd(frames + 1);
      else settled.current = true;
    });
  }

  function scrollToEnd(force = false) {
    const el = scroller.current;
    if (!el) return;
    const near = el.scrollHeight - el.scrollTop - el.clientHeight < 160;
    if (force || near) el.scrollTop = el.scrollHeight;
  }

  async function send(content: string, replaceFrom?: Message) {
    if (streaming) return;
    setError("");
    let current = conversation;
    if (!current) {
      try {
        const c = await post<Conversation>("/api/conversations", {
          title: content.trim().slice(0, 60) || "New conversation",
          model: model || undefined,
          system_prompt: mode?.prompt,
          collections: pendingCollections.length ? pendingCollections : undefined,
        });
        current = { ...c, messages: [] };
        setMode(null);
        setStart(0);
        created.current = c.id;
        route(`/chat/${c.id}`);
      } catch (err) {
        setError(errorText(err));
        return;
      }
    }
    const kept = replaceFrom
      ? current.messages.slice(0, current.messages.findIndex((m) => m.id === replaceFrom.id))
      : current.messages;
    const pending: Message = {
      id: "pending",
      role: "user",
      content,
      seq: 0,
      created_at: Date.now(),
    };
    current = { ...current, messages: [...kept, pending] };
    setConversation(current);
    const state: Streaming = { text: "", citations: [] };
    setStreaming({ ...state });
    requestAnimationFrame(() => scrollToEnd(true));
    const controller = new AbortController();
    abort.current = controller;
    let frame = 0;
    const flush = () => {
      frame = 0;
      setStreaming({ ...state });
      scrollToEnd();
    };
    const conversationId = current.id;
    let finished = false;
    try {
      await postStream(
        `/api/conversations/${conversationId}/messages`,
        { content, model: model || undefined, replace_from: replaceFrom?.id },
        ({ event, data }) => {
          if (event === "message") {
            setConversation((c) =>
              c && { ...c, messages: c.messages.map((m) => (m.id === "pending" ? data : m)) },
            );
          } else if (event === "citations") {
            state.citations = data.citations;
          } else if (event === "delta") {
            state.text += data.content;
            if (!frame) frame = requestAnimationFrame(flush);
          } else if (event === "done") {
            finished = true;
            const stored: Message | null = data.message;
            if (stored) {
              if (state.citations.length) stored.citations = state.citations;
              setConversation((c) => c && { ...c, messages: [...c.messages, stored] });
            }
          } else if (event === "error") {
            finished = true;
            setError(data.error?.message ?? "the answer failed");
          }
        },
        controller.signal,
      );
    } catch (err) {
      if (!(err instanceof DOMException && err.name === "AbortError")) setError(errorText(err));
    } finally {
      cancelAnimationFrame(frame);
      abort.current = null;
      setStreaming(null);
      created.current = null;
      if (!finished) {
        // Stopped midway: the server keeps what was written; show it now, and take the
        // server's copy (with its id) once it has stored it.
        if (state.text) {
          const partial: Message = {
            id: `partial-${Date.now()}`,
            role: "assistant",
            content: state.text,
            seq: 0,
            created_at: Date.now(),
            citations: state.citations.length ? state.citations : undefined,
          };
          setConversation((c) => c && { ...c, messages: [...c.messages, partial] });
        }
        setTimeout(() => {
          if (!abort.current) load(conversationId);
        }, 1000);
      }
      setListVersion((v) => v + 1);
    }
  }

  function stop() {
    abort.current?.abort();
  }

  function regenerate() {
    const messages = conversation?.messages ?? [];
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    if (lastUser) send(lastUser.content, lastUser);
  }

  async function setCollections(ids: string[]) {
    if (!conversation) {
      setPendingCollections(ids);
      return;
    }
    try {
      const c = await patch(`/api/conversations/${conversation.id}`, { collections: ids });
      setConversation((old) => old && { ...old, collections: c.collections });
    } catch (err) {
      setError(errorText(err));
    }
  }

  /** Gives, changes (`rating`) or takes back (`null`) the reader's feedback on an answer. */
  async function rate(message: Message, rating: Rating | null, comment: string | null) {
    if (!conversation) return;
    const path = `/api/conversations/${conversation.id}/messages/${message.id}/feedback`;
    setError("");
    try {
      let feedback: Feedback | null = null;
      if (rating) {
        const f = await put<Feedback>(path, { rating, comment: comment ?? undefined });
        feedback = { rating: f.rating, comment: f.comment, updated_at: f.updated_at };
      } else {
        await del(path);
      }
      setConversation(
        (c) => c && { ...c, messages: c.messages.map((m) => (m.id === message.id ? { ...m, feedback } : m)) },
      );
    } catch (err) {
      setError(errorText(err));
      throw err;
    }
  }

  const messages = conversation?.messages ?? [];
  // Never more than WINDOW hidden at the end, whatever was added or cut since.
  const first = Math.min(start, Math.max(0, messages.length - WINDOW));
  const visible = first > 0 ? messages.slice(first) : messages;

  function showEarlier() {
    const el = scroller.current;
    if (el) anchor.current = el.scrollHeight - el.scrollTop;
    setStart(Math.max(0, first - WINDOW));
  }

  // What was on screen stays there when earlier messages appear above it.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && anchor.current !== null) el.scrollTop = el.scrollHeight - anchor.current;
    anchor.current = null;
  }, [first]);

  // Reaching the top shows more by itself (once the conversation has opened at its end).
  useEffect(() => {
    const target = earlier.current;
    const root = scroller.current;
    if (!target || !root) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (settled.current && entries.some((e) => e.isIntersecting)) latest.current.showEarlier();
      },
      { root },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [first > 0, conversation?.id]);

  const lastAssistant = useMemo(
    () => [...messages].reverse().find((m) => m.role === "assistant")?.id,
    [messages],
  );

  function openCitation(message: Message, n: number) {
    const c = message.citations?.find((c) => c.index === n);
    if (c) setSource(c);
  }

  // Memoised messages keep the callbacks of their first render; these reach the latest.
  const latest = useRef({ send, regenerate, openCitation, rate, showEarlier });
  latest.current = { send, regenerate, openCitation, rate, showEarlier };

  return (
    <div class={`chat ${listOpen ? "list-open" : ""}`}>
      <ConversationList
        activeId={id}
        version={listVersion}
        onClose={() => setListOpen(false)}
        onDeleted={(deleted) => {
          if (deleted === id) route("/chat");
        }}
        onRenamed={(renamed, title) =>
          setConversation((c) => (c && c.id === renamed ? { ...c, title } : c))
        }
      />
      <section class="conversation" aria-label="Conversation">
        <div class="conversation-bar">
          <button type="button" class="icon list-toggle" onClick={() => setListOpen(true)} aria-label="Show conversations">
            <MenuIcon />
          </button>
          <h2 class="conversation-title">{conversation?.title ?? "New conversation"}</h2>
          <label class="model-picker">
            <span class="visually-hidden">Model</span>
            <select value={model} onChange={(e) => setModel(e.currentTarget.value)} aria-label="Model">
              {models.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <CollectionPicker
            selected={conversation ? conversation.collections : pendingCollections}
            onChange={setCollections}
          />
          <a class="button" href="/chat" aria-label="New conversation" title="New conversation">
            <PlusIcon />
            <span class="wide-only">New</span>
          </a>
        </div>
        <div class="messages" ref={scroller} aria-live="polite" aria-busy={streaming ? "true" : "false"}>
          {loadError && <p class="error">{loadError}</p>}
          {!conversation && !loadError && (
            <div class="empty">
              <h3>What can I help with?</h3>
              <p class="muted">Answers stream as they are written. Attach knowledge collections to ground them with citations.</p>
              <Starters mode={mode} onMode={setMode} onFill={(text) => setDraft({ text })} />
            </div>
          )}
          {conversation?.system_prompt && (
            <details class="instructions">
              <summary>Instructions for this conversation</summary>
              <p>{conversation.system_prompt}</p>
            </details>
          )}
          {first > 0 && (
            <button type="button" class="link earlier" ref={earlier} onClick={showEarlier}>
              Show earlier messages ({first})
            </button>
          )}
          {visible.map((m) => (
            <MessageItem
              key={m.id}
              message={m}
              busy={streaming !== null}
              isLastAnswer={m.id === lastAssistant}
              onEdit={(content) => latest.current.send(content, m)}
              onRegenerate={() => latest.current.regenerate()}
              onCite={(n) => latest.current.openCitation(m, n)}
              onFeedback={(rating, comment) => latest.current.rate(m, rating, comment)}
            />
          ))}
          {streaming && <StreamingItem text={streaming.text} citations={streaming.citations} onCite={(n) => {
            const c = streaming.citations.find((c) => c.index === n);
            if (c) setSource(c);
          }} />}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </div>
        <Composer busy={streaming !== null} draft={draft} onSend={(text) => send(text)} onStop={stop} />
      </section>
      {source && <SourceDialog citation={source} onClose={() => setSource(null)} />}
    </div>
  );
}
