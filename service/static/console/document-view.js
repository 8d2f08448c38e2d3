// A whole document with one passage marked by its offsets and the matched terms highlighted,
// scrolled so the passage is in view. Used by the console and by the passage page.
import { el, mergeSpans, statusBadge } from "./dom.js";

/**
 * The document's text as nodes: the cited passage [start, end) wrapped in <mark class="cited">
 * (with id "cited"), matched terms (document offsets) in <mark class="term"> inside it.
 */
function documentText(text, cited, terms) {
  const body = el("div", { class: "doc-text" });
  const spans = mergeSpans(terms || [], text.length);
  const append = (parent, from, to) => {
    let position = from;
    for (const [start, end] of spans) {
      if (end <= from || start >= to) continue;
      const s = Math.max(start, from);
      const e = Math.min(end, to);
      if (s > position) parent.append(document.createTextNode(text.slice(position, s)));
      parent.append(el("mark", { class: "term", text: text.slice(s, e) }));
      position = e;
    }
    if (position < to) parent.append(document.createTextNode(text.slice(position, to)));
  };
  if (cited && cited.end > cited.start) {
    append(body, 0, cited.start);
    const passage = el("mark", { class: "cited", attrs: { id: "cited", tabindex: "-1" } });
    append(passage, cited.start, cited.end);
    body.append(passage);
    append(body, cited.end, text.length);
  } else {
    append(body, 0, text.length);
  }
  return body;
}

/**
 * Render ``doc`` (GET /v1/documents/{id}) into ``container``; ``segmentId`` picks the cited
 * passage, ``terms`` are highlight spans in document offsets. ``onOpenDocument(docId)`` is
 * called when the reader follows a successor link. Returns the cited passage's element.
 */
export function renderDocument(container, doc, { segmentId, terms, onOpenDocument } = {}) {
  container.replaceChildren();
  const segment = (doc.segments || []).find((item) => item.segment_id === segmentId) || null;
  const facts = el("p", { class: "doc-facts" }, [
    statusBadge(doc.status),
    doc.doc_number ? el("span", { class: "doc-number", text: doc.doc_number }) : null,
    doc.issuer ? el("span", { text: doc.issuer }) : null,
    doc.date ? el("time", { text: doc.date, attrs: { datetime: doc.date } }) : null,
  ]);
  if (doc.superseded_by) {
    const link = el("a", { class: "successor", text: "查看替代文件", attrs: { href: `/passage?doc=${encodeURIComponent(doc.superseded_by)}` } });
    if (onOpenDocument) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        onOpenDocument(doc.superseded_by);
      });
    }
    facts.append(link);
  }
  const header = el("header", { class: "doc-header" }, [el("h2", { class: "doc-title", text: doc.title }), facts]);
  if (segment) {
    const where = [...(segment.section_path || [])].join(" › ") || segment.locator;
    header.append(el("p", { class: "doc-where" }, [
      "引用段落：", el("span", { class: "segment-place", text: where }),
      (segment.departments || []).length ? el("span", { class: "department", text: `转办：${segment.departments.join("、")}` }) : null,
    ]));
  }
  const body = documentText(doc.text || "", segment, terms);
  container.append(header, body);
  const cited = body.querySelector("#cited");
  if (cited) {
    // After layout: the container may just have been shown.
    requestAnimationFrame(() => cited.scrollIntoView({ block: "center" }));
  }
  return cited;
}
