import { type Match, type Originality, type ParagraphReport, type Source, percent } from "./types";

/**
 * The originality report: per section, each paragraph that resembles a source (copied
 * wording with the copied excerpt, or a close paraphrase) marked, with the source named.
 */
export function OriginalityReport({
  report,
  headings,
  edited,
}: {
  report: Originality;
  /** The sections' headings in the outline (the report numbers them). */
  headings: string[];
  edited: boolean;
}) {
  const flagged = report.sections.flatMap((s) => s.paragraphs.filter((p) => p.flagged));
  const against = [report.knowledge_checked && "your knowledge collections", "your earlier articles"]
    .filter(Boolean)
    .join(" and ");
  return (
    <section class="originality" aria-labelledby="originality-title">
      <h3 id="originality-title">Originality</h3>
      <p class={`verdict ${report.flagged ? "flagged" : "clean"}`} role="status">
        {report.flagged
          ? `${flagged.length} paragraph${flagged.length === 1 ? "" : "s"} resemble${flagged.length === 1 ? "s" : ""} existing text.`
          : "No paragraph resembles existing text."}
      </p>
      <p class="muted small">
        Checked against {against} ({report.candidates} passages) by shared wording
        {report.similarity_checked ? " and by meaning" : ""}: flagged from {percent(report.thresholds.containment)} of a
        paragraph's phrases in one source
        {report.similarity_checked ? `, or ${percent(report.thresholds.similarity)} similarity` : ""}.
        {edited && " The check read the generated text, before your edits."}
      </p>
      <ol class="originality-sections">
        {report.sections.map((section) => (
          <li key={section.index} class={section.flagged ? "flagged" : ""}>
            <div class="row spread">
              <h4>{headings[section.index] ?? section.heading}</h4>
              <span class={`badge ${section.flagged ? "failed" : "indexed"}`}>
                {section.flagged ? "resembles a source" : "original"}
              </span>
            </div>
            <p class="muted small">
              Most shared wording {percent(section.max_containment)}
              {report.similarity_checked && ` · closest meaning ${percent(section.max_similarity)}`}
            </p>
            {section.paragraphs.filter((p) => p.flagged).map((p, i) => (
              <FlaggedParagraph key={i} paragraph={p} />
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
}

function FlaggedParagraph({ paragraph }: { paragraph: ParagraphReport }) {
  return (
    <div class="flagged-paragraph">
      <p class="small">
        <strong>Flagged paragraph:</strong> <q>{paragraph.preview}</q>
      </p>
      <ul>
        {paragraph.matches
          .filter((m) => m.copied || m.paraphrase)
          .map((m, i) => (
            <li key={i}>
              <MatchLine match={m} />
            </li>
          ))}
      </ul>
    </div>
  );
}

function MatchLine({ match }: { match: Match }) {
  return (
    <>
      <span class="small">
        {match.copied
          ? `Copied wording (${percent(match.containment ?? 0)} of its phrases) from `
          : `Close paraphrase (${percent(match.similarity ?? 0)} similar) of `}
        <SourceName source={match.source} />
      </span>
      {match.excerpt && (
        <blockquote class="excerpt">
          <mark>{match.excerpt}</mark>
        </blockquote>
      )}
    </>
  );
}

function SourceName({ source }: { source: Source }) {
  if (!source) return <span>an unknown source</span>;
  if (source.kind === "article") {
    return (
      <span>
        your article <a href={`/writer/${source.id}`}>{source.name}</a>
      </span>
    );
  }
  return (
    <span>
      the document <strong>{source.name}</strong>
    </span>
  );
}
