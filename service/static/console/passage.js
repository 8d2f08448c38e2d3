// The passage page: /passage?segment=ID shows the whole document with that passage marked and
// in view (the widget links here); /passage?doc=ID shows a document from its start.
import { ApiError, getDocument, getSegment } from "./api.js";
import { el } from "./dom.js";
import { renderDocument } from "./document-view.js";

const container = document.getElementById("doc");

async function show() {
  const params = new URLSearchParams(location.search);
  const segmentId = params.get("segment");
  let docId = params.get("doc");
  try {
    if (segmentId) docId = (await getSegment(segmentId)).doc_id;
    if (!docId) throw new ApiError(404, "not_found");
    const doc = await getDocument(docId);
    document.title = `${doc.title} · 政策原文`;
    renderDocument(container, doc, {
      segmentId,
      onOpenDocument: (successor) => { location.search = `?doc=${encodeURIComponent(successor)}`; },
    });
  } catch (error) {
    const missing = error instanceof ApiError && error.code === "not_found";
    container.replaceChildren(el("p", { class: "error", text: missing ? "没有找到这段原文。" : "暂时无法打开原文。" }));
  }
  document.body.dataset.ready = "true";
}

show();
