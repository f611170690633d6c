// Markdown to safe HTML: marked parses (GitHub-flavoured), highlight.js colours code blocks,
// DOMPurify removes anything that could run script. Citation markers like [1] become
// buttons the chat page opens the source snippet from.

import { Marked } from "marked";
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

for (const [name, lang] of Object.entries({
  bash, css, go, javascript, json, python, rust, sql, typescript, xml, yaml,
})) {
  hljs.registerLanguage(name, lang);
}
hljs.registerAliases(["sh", "shell", "console"], { languageName: "bash" });
hljs.registerAliases(["js", "jsx"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["rs"], { languageName: "rust" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["yml", "toml"], { languageName: "yaml" });

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = (lang ?? "").split(/\s/)[0].toLowerCase();
      const html =
        language && hljs.getLanguage(language)
          ? hljs.highlight(text, { language, ignoreIllegals: true }).value
          : escapeHtml(text);
      const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : "";
      return `<pre class="code">${label}<code class="hljs">${html}</code></pre>\n`;
    },
  },
});

// Links open in a new tab without giving it a handle on this one.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/** `[n]` outside code, when n is a citation this answer has. */
function linkCitations(html: string, citations: number): string {
  if (!citations) return html;
  // Leave <pre> and <code> alone: split them out, replace in the rest.
  return html
    .split(/(<pre[\s\S]*?<\/pre>|<code[\s\S]*?<\/code>)/)
    .map((part, i) =>
      i % 2
        ? part
        : part.replace(/\[(\d{1,2})\]/g, (whole, n) =>
            Number(n) >= 1 && Number(n) <= citations
              ? `<button type="button" class="cite" data-cite="${n}" aria-label="source ${n}">${n}</button>`
              : whole,
          ),
    )
    .join("");
}

const cache = new Map<string, string>();

/** Sanitised HTML for Markdown text; finished messages are cached by content. */
export function renderMarkdown(text: string, citations = 0, cacheable = true): string {
  const key = `${citations}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const raw = marked.parse(text, { async: false }) as string;
  const html = DOMPurify.sanitize(linkCitations(raw, citations), {
    ADD_ATTR: ["target", "data-cite"],
  });
  if (cacheable) {
    if (cache.size > 2000) cache.clear();
    cache.set(key, html);
  }
  return html;
}
