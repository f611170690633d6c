import { useEffect, useState } from "preact/hooks";
import { get, post } from "../../api";
import { errorText, useAutofocus } from "../../util";

type Template = { name: string; description: string; body: string; variables: string[] };

/** A writing mode: a style the conversation's system prompt asks the model to follow. */
export type WritingMode = { name: string; label: string; prompt: string };

const MODE = /^writer\/([^/]+)\/style$/;

function modeOf(t: Template): WritingMode {
  return {
    name: t.name,
    label: t.description.replace(/\s*writing mode$/i, "") || t.name,
    prompt: `You are a writing assistant. Whatever the user asks you to write, follow this style.\n${t.body}`,
  };
}

/** `chat/explain-code` → "Explain code". */
function titleOf(t: Template): string {
  const last = t.name.split("/").pop() ?? t.name;
  const words = last.replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * What a new conversation can start from: the chat presets (prompt templates under `chat/`,
 * built in or the user's own), which fill the message box once their blanks are filled in,
 * and the writing modes, which become the conversation's system prompt.
 */
export function Starters({
  mode,
  onMode,
  onFill,
}: {
  mode: WritingMode | null;
  onMode: (mode: WritingMode | null) => void;
  onFill: (text: string) => void;
}) {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [error, setError] = useState("");
  const [chosen, setChosen] = useState<Template | null>(null);

  useEffect(() => {
    get<{ data: Template[] }>("/api/templates")
      .then((list) => setTemplates(list.data))
      .catch((err) => setError(errorText(err)));
  }, []);

  if (error) return <p class="error">{error}</p>;
  if (!templates) return null;
  const presets = templates.filter((t) => t.name.startsWith("chat/"));
  const modes = templates.filter((t) => MODE.test(t.name)).map(modeOf);

  if (chosen) {
    return (
      <TemplateForm
        template={chosen}
        title={titleOf(chosen)}
        onDone={(text) => {
          setChosen(null);
          onFill(text);
        }}
        onCancel={() => setChosen(null)}
      />
    );
  }
  return (
    <div class="starters">
      {presets.length > 0 && (
        <section aria-labelledby="starters-templates">
          <h4 id="starters-templates">Start from a template</h4>
          <ul class="starter-cards">
            {presets.map((t) => (
              <li key={t.name}>
                <button type="button" class="starter" onClick={() => setChosen(t)}>
                  <strong>{titleOf(t)}</strong>
                  <span class="muted">{t.description}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {modes.length > 0 && (
        <section aria-labelledby="starters-modes">
          <h4 id="starters-modes">Writing mode</h4>
          <div class="modes" role="group" aria-labelledby="starters-modes">
            {modes.map((m) => (
              <button
                key={m.name}
                type="button"
                class={`chip ${mode?.name === m.name ? "attached" : ""}`}
                aria-pressed={mode?.name === m.name}
                onClick={() => onMode(mode?.name === m.name ? null : m)}
              >
                {m.label}
              </button>
            ))}
          </div>
          <p class="muted small">
            {mode ? `Answers in this conversation follow the ${mode.label} style.` : "Pick one to have every answer written in that style."}
          </p>
        </section>
      )}
    </div>
  );
}

/** A variable the template gives a default to (`{{ name | default(...) }}`) may stay empty. */
function isOptional(body: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`\\{\\{\\s*${escaped}\\s*\\|\\s*default\\(`).test(body);
}

function TemplateForm({
  template,
  title,
  onDone,
  onCancel,
}: {
  template: Template;
  title: string;
  onDone: (text: string) => void;
  onCancel: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const first = useAutofocus<HTMLTextAreaElement & HTMLInputElement>();
  // The blanks to fill first, then those with a default.
  const fields = template.variables
    .map((name) => ({ name, optional: isOptional(template.body, name) }))
    .sort((a, b) => Number(a.optional) - Number(b.optional));

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError("");
    const variables: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v.trim()) variables[k] = v;
    try {
      const rendered = await post<{ text: string }>("/api/templates/render", { name: template.name, variables });
      onDone(rendered.text);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      class="template-form card"
      aria-labelledby="template-form-title"
      onSubmit={submit}
      onKeyDown={(e) => e.key === "Escape" && onCancel()}
    >
      <h4 id="template-form-title">{title}</h4>
      <p class="muted small">{template.description}</p>
      {fields.map(({ name, optional }, i) => {
        const label = name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " ");
        const common = {
          ref: i === 0 ? first : undefined,
          value: values[name] ?? "",
          onInput: (e: any) => setValues((old) => ({ ...old, [name]: e.currentTarget.value })),
        };
        return (
          <label key={name}>
            <span>
              {label}
              {optional && <span class="muted"> (optional)</span>}
            </span>
            {optional ? <input {...common} /> : <textarea rows={3} required {...common} />}
          </label>
        );
      })}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Use template
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
