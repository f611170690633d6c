import { useState } from "preact/hooks";
import { TrashIcon } from "../../icons";
import type { Outline } from "./types";

/** The server takes between 1 and 12 sections in an edited outline. */
const MAX_SECTIONS = 12;

type Draft = { title: string; sections: { heading: string; points: string }[] };

const toDraft = (o: Outline): Draft => ({
  title: o.title,
  sections: o.sections.map((s) => ({ heading: s.heading, points: s.points.join("\n") })),
});

const fromDraft = (d: Draft): Outline => ({
  title: d.title.trim(),
  sections: d.sections.map((s) => ({
    heading: s.heading.trim(),
    points: s.points
      .split("\n")
      .map((p) => p.replace(/^\s*[-*]\s*/, "").trim())
      .filter(Boolean),
  })),
});

/**
 * The outline the run stopped at, as a form: the title, and each section's heading and key
 * points (one a line); sections can be added, removed and moved. "Continue" sends it.
 */
export function OutlineEditor({
  outline,
  busy,
  onContinue,
}: {
  outline: Outline;
  busy: boolean;
  onContinue: (outline: Outline) => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(outline));
  const sections = draft.sections;

  function setSection(i: number, change: Partial<Draft["sections"][number]>) {
    setDraft({ ...draft, sections: sections.map((s, j) => (j === i ? { ...s, ...change } : s)) });
  }

  function move(i: number, by: number, focus: string) {
    const next = [...sections];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    setDraft({ ...draft, sections: next });
    // Keep the keyboard on the section that moved, in its new place (on the other arrow
    // when this one is now disabled, at the top or the bottom).
    requestAnimationFrame(() => {
      const same = document.getElementById(`${focus}-${i + by}`) as HTMLButtonElement | null;
      const other = focus === "outline-up" ? "outline-down" : "outline-up";
      (same && !same.disabled ? same : document.getElementById(`${other}-${i + by}`))?.focus();
    });
  }

  function remove(i: number) {
    setDraft({ ...draft, sections: sections.filter((_, j) => j !== i) });
  }

  function add() {
    setDraft({ ...draft, sections: [...sections, { heading: "", points: "" }] });
    requestAnimationFrame(() => document.getElementById(`outline-heading-${sections.length}`)?.focus());
  }

  return (
    <form
      class="card outline-editor"
      aria-labelledby="outline-title"
      onSubmit={(e) => {
        e.preventDefault();
        onContinue(fromDraft(draft));
      }}
    >
      <h3 id="outline-title">Review the outline</h3>
      <p class="muted small">
        Edit the title, the headings and their key points, add, remove or reorder sections, then continue: the sections
        are written from this outline.
      </p>
      <label>
        Title
        <input required value={draft.title} onInput={(e) => setDraft({ ...draft, title: e.currentTarget.value })} />
      </label>
      <ol class="outline-sections">
        {sections.map((s, i) => (
          <li key={i} class="outline-section">
            <label>
              Heading of section {i + 1}
              <input
                id={`outline-heading-${i}`}
                required
                value={s.heading}
                onInput={(e) => setSection(i, { heading: e.currentTarget.value })}
              />
            </label>
            <label>
              Key points of section {i + 1} (one a line)
              <textarea rows={3} value={s.points} onInput={(e) => setSection(i, { points: e.currentTarget.value })} />
            </label>
            <div class="row">
              <button
                type="button"
                id={`outline-up-${i}`}
                disabled={i === 0}
                onClick={() => move(i, -1, "outline-up")}
                aria-label={`Move section ${i + 1} up`}
              >
                ↑ Up
              </button>
              <button
                type="button"
                id={`outline-down-${i}`}
                disabled={i === sections.length - 1}
                onClick={() => move(i, 1, "outline-down")}
                aria-label={`Move section ${i + 1} down`}
              >
                ↓ Down
              </button>
              <button
                type="button"
                class="danger"
                disabled={sections.length <= 1}
                onClick={() => remove(i)}
                aria-label={`Remove section ${i + 1}`}
              >
                <TrashIcon /> Remove
              </button>
            </div>
          </li>
        ))}
      </ol>
      <div class="row spread">
        <button type="button" onClick={add} disabled={sections.length >= MAX_SECTIONS}>
          Add a section
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Continuing…" : "Continue"}
        </button>
      </div>
    </form>
  );
}
