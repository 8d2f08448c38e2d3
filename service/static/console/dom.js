// Building DOM from untrusted text. Every question, passage, title and comment reaches the page
// through these helpers as text nodes (textContent), never as HTML, so a passage that contains
// "<script>" or "<img onerror=…>" shows those characters and runs nothing.

/** An element with optional class, text and attributes; children are nodes or strings (as text). */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Merge overlapping [start, end) spans, clipped to [0, length). */
export function mergeSpans(spans, length) {
  const clipped = spans
    .map(([start, end]) => [Math.max(0, start), Math.min(length, end)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const span of clipped) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([...span]);
  }
  return merged;
}

/** A fragment of ``text`` with each span (offsets into ``text``) wrapped in <mark>. */
export function markedText(text, spans, markClass = "term") {
  const fragment = document.createDocumentFragment();
  let position = 0;
  for (const [start, end] of mergeSpans(spans, text.length)) {
    if (start > position) fragment.append(document.createTextNode(text.slice(position, start)));
    fragment.append(el("mark", { class: markClass, text: text.slice(start, end) }));
    position = end;
  }
  if (position < text.length) fragment.append(document.createTextNode(text.slice(position)));
  return fragment;
}

/**
 * A hit's passage cut to about ``maxChars`` around its first highlighted term, with the term
 * spans made relative to the cut: {text, spans, cutStart, cutEnd}.
 */
export function excerpt(hit, maxChars) {
  const text = hit.text || "";
  const spans = (hit.highlights || [])
    .map(([start, end]) => [start - hit.start, end - hit.start])
    .filter(([start, end]) => start >= 0 && end <= text.length);
  if (text.length <= maxChars) return { text, spans, cutStart: false, cutEnd: false };
  const first = spans.length ? Math.min(...spans.map((span) => span[0])) : 0;
  let from = Math.max(0, Math.min(first - Math.floor(maxChars / 4), text.length - maxChars));
  const to = Math.min(text.length, from + maxChars);
  if (from < 8) from = 0;
  return {
    text: text.slice(from, to),
    spans: spans.map(([start, end]) => [start - from, end - from]),
    cutStart: from > 0,
    cutEnd: to < text.length,
  };
}

/** An excerpt as a fragment with its terms marked and "…" where it was cut. */
export function excerptNode(hit, maxChars) {
  const cut = excerpt(hit, maxChars);
  const fragment = document.createDocumentFragment();
  if (cut.cutStart) fragment.append("…");
  fragment.append(markedText(cut.text, cut.spans));
  if (cut.cutEnd) fragment.append("…");
  return fragment;
}

export const STATUS_LABELS = { in_force: "现行有效", superseded: "已被替代", expired: "已失效" };

/** A status badge: in force, superseded, expired. */
export function statusBadge(status) {
  return el("span", { class: `status status-${status in STATUS_LABELS ? status : "unknown"}`,
                      text: STATUS_LABELS[status] || status || "状态不明" });
}
