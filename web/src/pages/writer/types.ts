// The article writer's shapes, as /api/articles answers them (crates/cairn-server/src/writer).

export type RunStatus = "running" | "waiting" | "succeeded" | "failed" | "cancelled";

export type Stage = {
  stage: string;
  status: "running" | "succeeded" | "failed" | "skipped";
  tokens: number;
  elapsed_ms: number;
  attempts: number;
  started_at: number;
  output: unknown;
  error: string | null;
  items?: Stage[];
};

export type OutlineSection = { heading: string; points: string[] };
export type Outline = { title: string; sections: OutlineSection[] };

export type Article = {
  title: string;
  meta_description: string;
  keywords: string[];
  markdown: string;
  words: number;
  reading_minutes: number;
  edited_at: number | null;
  outdated_edit: string | null;
};

export type Source = { kind: "document" | "article"; id: string; name: string } | null;

export type Match = {
  source: Source;
  containment?: number;
  jaccard?: number;
  excerpt?: string;
  copied?: boolean;
  similarity?: number;
  paraphrase?: boolean;
};

export type ParagraphReport = { preview: string; flagged: boolean; matches: Match[] };

export type SectionReport = {
  index: number;
  heading: string;
  flagged: boolean;
  max_containment: number;
  max_jaccard: number;
  max_similarity: number;
  paragraphs: ParagraphReport[];
};

export type Originality = {
  flagged: boolean;
  thresholds: { containment: number; jaccard: number; similarity: number };
  knowledge_checked: boolean;
  similarity_checked: boolean;
  candidates: number;
  sections: SectionReport[];
};

export type ArticleView = {
  id: string;
  status: RunStatus;
  error: string | null;
  topic: string;
  mode: string;
  team: boolean;
  tokens: number;
  created_at: number;
  updated_at: number;
  stages: Stage[];
  all_stages: string[];
  outline: Outline | null;
  article: Article | null;
  originality: Originality | null;
};

export type ArticleSummary = {
  id: string;
  status: RunStatus;
  topic: string;
  mode: string;
  title: string | null;
  tokens: number;
  created_at: number;
  updated_at: number;
};

/** What each stage does, in words a writer uses. */
export const STAGE_LABELS: Record<string, string> = {
  keywords: "Keywords",
  research: "Research in your collections",
  notes: "Researcher's notes",
  outline: "Outline",
  approved_outline: "Your review of the outline",
  sources: "Sources for each section",
  drafts: "Drafts",
  critique: "Editor's advice",
  edited: "Grammar and style edit",
  originality: "Originality check",
  meta: "Meta description",
  article: "Assembly",
};

export const stageLabel = (stage: string) => STAGE_LABELS[stage] ?? stage;

export const STATUS_LABELS: Record<RunStatus, string> = {
  running: "writing",
  waiting: "waiting for you",
  succeeded: "finished",
  failed: "failed",
  cancelled: "cancelled",
};

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export const percent = (x: number) => `${Math.round(x * 100)}%`;
