// The safe Markdown subset of chat messages: bold, italic, inline code, code blocks, links, lists, quotes.
// It builds React elements (never HTML strings), so raw HTML in a message is shown as text, and only
// http(s)/mailto links are made, opening in a new tab with rel="noopener noreferrer".
import { Fragment, type ReactNode } from "react";

type Block =
  | { kind: "code"; text: string }
  | { kind: "quote"; lines: string[] }
  | { kind: "list"; ordered: boolean; items: string[] }
  | { kind: "para"; lines: string[] };

export function parseBlocks(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*```/.test(line)) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^\s*```/.test(lines[i])) body.push(lines[i++]);
      i++; // closing fence (or end of text)
      blocks.push({ kind: "code", text: body.join("\n") });
    } else if (/^\s*>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*>\s?/, ""));
      blocks.push({ kind: "quote", lines: body });
    } else if (/^\s*([-*+]|\d{1,3}[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      const itemRe = ordered ? /^\s*\d{1,3}[.)]\s+/ : /^\s*[-*+]\s+/;
      while (i < lines.length && itemRe.test(lines[i])) items.push(lines[i++].replace(itemRe, ""));
      blocks.push({ kind: "list", ordered, items });
    } else if (line.trim() === "") {
      i++;
    } else {
      const body: string[] = [];
      while (
        i < lines.length &&
        lines[i].trim() !== "" &&
        !/^\s*(```|>|[-*+]\s|\d{1,3}[.)]\s)/.test(lines[i])
      )
        body.push(lines[i++]);
      blocks.push({ kind: "para", lines: body });
    }
  }
  return blocks;
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
// Inline tokens, first match wins: code, link, bold, italic, bare URL.
const INLINE =
  /(`[^`\n]+`)|\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*([^*\n]+)\*\*|__([^_\n]+)__|(?<![\w*])\*([^*\n]+)\*(?!\w)|(?<![\w_])_([^_\n]+)_(?!\w)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

function link(href: string, children: ReactNode, key: string | number): ReactNode {
  if (!SAFE_URL.test(href)) return <Fragment key={key}>{children}</Fragment>;
  return (
    <a key={key} href={href} target="_blank" rel="noopener noreferrer" className="underline underline-offset-2">
      {children}
    </a>
  );
}

export function renderInline(text: string, highlight?: RegExp): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let k = 0;
  const plain = (s: string) => {
    if (!s) return;
    if (!highlight) out.push(s);
    else out.push(...highlightText(s, highlight, `h${k++}`));
  };
  for (const m of text.matchAll(INLINE)) {
    plain(text.slice(last, m.index));
    last = m.index + m[0].length;
    const key = k++;
    if (m[1]) out.push(<code key={key} className="rounded bg-black/10 px-1 py-0.5 font-mono text-[0.9em] dark:bg-white/15">{m[1].slice(1, -1)}</code>);
    else if (m[2]) out.push(link(m[3], renderInline(m[2]), key));
    else if (m[4] ?? m[5]) out.push(<strong key={key}>{renderInline(m[4] ?? m[5])}</strong>);
    else if (m[6] ?? m[7]) out.push(<em key={key}>{renderInline(m[6] ?? m[7])}</em>);
    else if (m[8]) out.push(link(m[8], m[8], key));
  }
  plain(text.slice(last));
  return out;
}

export function highlightText(text: string, pattern: RegExp, keyPrefix = "h"): ReactNode[] {
  const parts: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(new RegExp(pattern.source, "gi"))) {
    if (!m[0]) break;
    parts.push(text.slice(last, m.index));
    parts.push(<mark key={`${keyPrefix}${i++}`} className="rounded-sm bg-amber-200 px-0.5 text-inherit dark:bg-amber-500/40">{m[0]}</mark>);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

/** A regular expression matching any word of a search query (for highlighting), or undefined. */
export function queryPattern(query: string): RegExp | undefined {
  const words = query.trim().split(/\s+/).filter((w) => w.length > 0).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return words.length ? new RegExp(`(${words.join("|")})`, "gi") : undefined;
}

export function Markdown({ text, highlight }: { text: string; highlight?: RegExp }) {
  return (
    <div className="space-y-1.5 break-words [overflow-wrap:anywhere]">
      {parseBlocks(text).map((b, i) => {
        switch (b.kind) {
          case "code":
            return (
              <pre key={i} className="overflow-x-auto rounded-md bg-black/10 p-2 font-mono text-[13px] leading-snug dark:bg-white/10">
                <code>{b.text}</code>
              </pre>
            );
          case "quote":
            return (
              <blockquote key={i} className="border-l-2 border-current/40 pl-2 opacity-90">
                {b.lines.map((l, j) => (
                  <p key={j}>{renderInline(l, highlight)}</p>
                ))}
              </blockquote>
            );
          case "list": {
            const Tag = b.ordered ? "ol" : "ul";
            return (
              <Tag key={i} className={b.ordered ? "list-decimal pl-5" : "list-disc pl-5"}>
                {b.items.map((item, j) => (
                  <li key={j}>{renderInline(item, highlight)}</li>
                ))}
              </Tag>
            );
          }
          default:
            return (
              <p key={i} className="whitespace-pre-wrap">
                {b.lines.map((l, j) => (
                  <Fragment key={j}>
                    {j > 0 && "\n"}
                    {renderInline(l, highlight)}
                  </Fragment>
                ))}
              </p>
            );
        }
      })}
    </div>
  );
}

/** Plain text of a message for previews (list rows, notifications): Markdown marks removed. */
export function plainText(text: string): string {
  return text
    .replace(/```[\s\S]*?(```|$)/g, " [code] ")
    .replace(/\[([^\]]+)\]\([^)]+\)/g, "$1")
    .replace(/[*_`>#]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}
