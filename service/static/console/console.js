// The agent console: search as the agent types, read ranked cited passages, open the document
// at the passage, copy a citation, give feedback. Keyboard first: / focuses the search,
// ↑/↓ move between hits, Enter opens, c copies, Esc goes back.
import { ApiError, ask, getDocument, isNoAnswer, sendFeedback } from "./api.js";
import { citationText } from "./citation.js";
import { el, excerptNode, statusBadge } from "./dom.js";
import { renderDocument } from "./document-view.js";

const DEBOUNCE_MS = 200;
const TOP_K = 10;
const EXCERPT_CHARS = 220;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("search-form"), input: $("q"), status: $("status"), hits: $("hits"),
  asOf: $("as-of"), superseded: $("include-superseded"), expired: $("include-expired"),
  docFilter: $("doc-filter"), docFilterTitle: $("doc-filter-title"), docFilterClear: $("doc-filter-clear"),
  feedback: $("feedback"), feedbackComment: $("fb-comment"), feedbackState: $("fb-state"),
  docPane: $("doc-pane"), docEmpty: $("doc-empty"), docToolbar: $("doc-toolbar"), doc: $("doc"),
  docCopy: $("doc-copy"), docClose: $("doc-close"), toast: $("toast"),
};

const state = {
  answer: null,        // the last answer shown
  selected: -1,        // index of the selected hit
  openHit: null,       // the hit whose document is open
  onlyDoc: null,       // {doc_id, title} when the search is limited to one document
  sequence: 0,         // answers older than the newest question are dropped
  controller: null,    // aborts the request of an older question
  keyTime: null,       // performance.now() of the keypress the next answer answers
  timer: null,
};

// ---- searching -------------------------------------------------------------------------

function filters() {
  const value = {};
  if (ui.asOf.value) value.as_of = ui.asOf.value;
  if (ui.superseded.checked) value.include_superseded = true;
  if (ui.expired.checked) value.include_expired = true;
  if (state.onlyDoc) value.doc_ids = [state.onlyDoc.doc_id];
  return value;
}

function scheduleSearch() {
  clearTimeout(state.timer);
  state.timer = setTimeout(search, DEBOUNCE_MS);
}

async function search() {
  clearTimeout(state.timer);
  const question = ui.input.value.trim();
  const sequence = ++state.sequence;
  if (state.controller) state.controller.abort();
  if (!question) {
    state.answer = null;
    ui.hits.replaceChildren();
    ui.feedback.hidden = true;
    setStatus("输入问题开始搜索。");
    return;
  }
  const controller = new AbortController();
  state.controller = controller;
  const started = state.keyTime ?? performance.now();
  setStatus("正在搜索…");
  let answer;
  try {
    answer = await ask({ question, topK: TOP_K, filters: filters(), channel: "console", signal: controller.signal });
  } catch (error) {
    if (error.name === "AbortError" || sequence !== state.sequence) return;
    showError(error);
    return;
  }
  if (sequence !== state.sequence) return;
  showAnswer(answer);
  // Time from the agent's keypress to the results on screen: the frame after the next paint.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (sequence !== state.sequence) return;
    const elapsed = Math.round(performance.now() - started);
    document.body.dataset.paintMs = String(elapsed);
    document.body.dataset.paintedQuestion = question;
    ui.status.dataset.ms = String(elapsed);
  }));
}

function showError(error) {
  state.answer = null;
  ui.hits.replaceChildren();
  ui.feedback.hidden = true;
  const messages = {
    question_too_long: "问题太长，请精简到 500 字以内。",
    invalid_filter: "筛选条件无效，请检查日期与选项。",
    index_not_built: "知识库索引尚未建立，暂时无法搜索。",
    index_unavailable: "知识库暂时不可用，请稍后再试。",
  };
  setStatus(error instanceof ApiError ? (messages[error.code] || `搜索失败（${error.code}）`) : "无法连接服务，请检查网络。", true);
}

function setStatus(text, isError = false) {
  ui.status.textContent = text;
  ui.status.classList.toggle("error", isError);
}

// ---- results ----------------------------------------------------------------------------

function showAnswer(answer) {
  state.answer = answer;
  state.selected = -1;
  ui.hits.replaceChildren();
  if (isNoAnswer(answer)) {
    const why = {
      no_searchable_terms: "问题里没有可检索的词，请换个说法。",
      no_answer: "这个问题不像政策咨询，知识库里没有可引用的依据。",
    }[answer.reason] || "没有找到相关段落。可以去掉筛选条件或换个说法。";
    setStatus(why);
  } else {
    setStatus(`${answer.hits.length} 条结果${answer.degraded ? "（部分索引不可用，仅关键词检索）" : ""}`);
    answer.hits.forEach((hit, index) => ui.hits.append(hitCard(hit, index)));
  }
  resetFeedback(answer);
}

function hitCard(hit, index) {
  const card = el("li", { class: "hit", attrs: { tabindex: "-1", "data-index": index, "data-segment-id": hit.segment_id } });
  const title = el("h3", { class: "hit-title" }, [el("span", { class: "rank", text: hit.rank }), el("span", { text: hit.title })]);
  const meta = el("p", { class: "hit-meta" }, [
    statusBadge(hit.status),
    hit.doc_number ? el("span", { class: "doc-number", text: hit.doc_number }) : null,
    hit.date ? el("time", { text: hit.date, attrs: { datetime: hit.date } }) : null,
    hit.issuer ? el("span", { class: "issuer", text: hit.issuer }) : null,
  ]);
  if (hit.superseded_by) {
    const successor = el("button", { class: "link successor", text: "查看替代文件", attrs: { type: "button" } });
    successor.addEventListener("click", () => openDocument({ doc_id: hit.superseded_by }));
    meta.append(successor);
  }
  const where = [...(hit.section_path || [])].join(" › ");
  const place = el("p", { class: "hit-where" }, [
    where ? el("span", { class: "section-path", text: where }) : null,
    el("span", { class: "locator", text: hit.locator }),
  ]);
  const text = el("p", { class: "hit-text" });
  if (hit.same_text_as) text.append(el("span", { class: "same-text", text: `与第 ${hit.same_text_as} 条内容相同（另一份文件发布）` }));
  else text.append(excerptNode(hit, EXCERPT_CHARS));
  const actions = el("p", { class: "hit-actions" });
  if ((hit.departments || []).length) {
    actions.append(el("span", { class: "department", text: `转办：${hit.departments.join("、")}` }));
  }
  const action = (label, handler, className = "") => {
    const button = el("button", { class: className, text: label, attrs: { type: "button" } });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      select(index, false);
      handler(button);
    });
    actions.append(button);
    return button;
  };
  action("复制引用 c", () => copyCitation(hit), "copy");
  action("打开原文 ↵", () => openDocument(hit), "open");
  action("正确段落", (button) => feedback("correct_passage", button, hit.segment_id), "correct");
  action("只看此文件", () => limitToDocument(hit), "only");
  card.append(title, meta, place, text, actions);
  card.addEventListener("click", () => select(index));
  card.addEventListener("dblclick", () => openDocument(hit));
  return card;
}

function cards() {
  return [...ui.hits.querySelectorAll(".hit")];
}

function select(index, focus = true) {
  const all = cards();
  if (!all.length) return;
  state.selected = Math.max(0, Math.min(all.length - 1, index));
  all.forEach((card, i) => card.classList.toggle("selected", i === state.selected));
  const card = all[state.selected];
  if (focus) card.focus({ preventScroll: true });
  card.scrollIntoView({ block: "nearest" });
}

function selectedHit() {
  return state.answer && state.selected >= 0 ? state.answer.hits[state.selected] : null;
}

function limitToDocument(hit) {
  state.onlyDoc = { doc_id: hit.doc_id, title: hit.title };
  ui.docFilterTitle.textContent = hit.title;
  ui.docFilter.hidden = false;
  search();
}

// ---- the document view ----------------------------------------------------------------

async function openDocument(hit) {
  state.openHit = hit.segment_id ? hit : null;
  ui.docEmpty.hidden = true;
  ui.docToolbar.hidden = false;
  ui.docCopy.disabled = !state.openHit;
  ui.doc.hidden = false;
  ui.doc.replaceChildren(el("p", { class: "loading", text: "正在打开原文…" }));
  let doc;
  try {
    doc = await getDocument(hit.doc_id);
  } catch (error) {
    ui.doc.replaceChildren(el("p", { class: "error", text: error instanceof ApiError && error.code === "not_found" ? "文件不存在或已被删除。" : "无法打开原文。" }));
    return;
  }
  const terms = state.openHit ? state.openHit.highlights : [];
  renderDocument(ui.doc, doc, { segmentId: state.openHit && hit.segment_id, terms,
                                onOpenDocument: (docId) => openDocument({ doc_id: docId }) });
  ui.doc.focus({ preventScroll: true });
}

function closeDocument() {
  state.openHit = null;
  ui.doc.hidden = true;
  ui.doc.replaceChildren();
  ui.docToolbar.hidden = true;
  ui.docEmpty.hidden = false;
  if (state.selected >= 0) select(state.selected);
  else ui.input.focus();
}

// ---- copying ------------------------------------------------------------------------------

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (no permission, not a secure context): the old way still works.
    const area = el("textarea", { class: "offscreen", attrs: { readonly: true } });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

async function copyCitation(hit) {
  if (!hit) return;
  const text = citationText(hit);
  const done = await copyText(text);
  toast(done ? `已复制：${text}` : "复制失败，请手动选择文字复制。");
}

function toast(text) {
  ui.toast.textContent = text;
  ui.toast.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { ui.toast.hidden = true; }, 4000);
}

// ---- feedback -----------------------------------------------------------------------------

function resetFeedback(answer) {
  const available = Boolean(answer && answer.query_id);
  ui.feedback.hidden = !answer;
  ui.feedback.dataset.queryId = available ? answer.query_id : "";
  ui.feedback.classList.toggle("unavailable", !available);
  for (const button of ui.feedback.querySelectorAll("button")) {
    button.disabled = !available;
    button.classList.remove("sent");
  }
  ui.feedbackComment.disabled = !available;
  ui.feedbackComment.value = "";
  ui.feedbackState.textContent = available ? "" : "此服务版本不接收反馈。";
}

async function feedback(verdict, button, segmentId) {
  const answer = state.answer;
  if (!answer || !answer.query_id) {
    toast("此服务版本不接收反馈。");
    return;
  }
  const comment = ui.feedbackComment.value.trim();
  button.disabled = true;
  try {
    await sendFeedback({ queryId: answer.query_id, verdict, segmentId, comment: comment || undefined });
  } catch (error) {
    button.disabled = false;
    ui.feedbackState.textContent = `反馈未能提交（${error.code || "网络错误"}）`;
    return;
  }
  if (answer !== state.answer) return;
  button.classList.add("sent");
  ui.feedbackComment.value = "";
  ui.feedbackState.textContent = verdict === "correct_passage" ? "已记录正确段落，谢谢。" : "已记录评价，谢谢。";
}

// ---- keyboard and wiring --------------------------------------------------------------------

// Keys that type into a field belong to the field; a checkbox types nothing.
function typing(target) {
  if (target instanceof HTMLInputElement) return !["checkbox", "radio", "button", "submit"].includes(target.type);
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const inSearch = event.target === ui.input;
  if (event.key === "/" && !typing(event.target)) {
    event.preventDefault();
    ui.input.focus();
    ui.input.select();
  } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && (inSearch || !typing(event.target))) {
    if (!cards().length) return;
    event.preventDefault();
    if (inSearch) {
      if (event.key === "ArrowDown") select(Math.max(0, state.selected));
      return;
    }
    const next = state.selected + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0) ui.input.focus();
    else select(next);
  } else if (event.key === "Enter" && !typing(event.target) && !(event.target instanceof HTMLButtonElement) && selectedHit()) {
    event.preventDefault();
    openDocument(selectedHit());
  } else if ((event.key === "c" || event.key === "C") && !typing(event.target)) {
    const hit = !ui.doc.hidden && state.openHit ? state.openHit : selectedHit();
    if (hit) {
      event.preventDefault();
      copyCitation(hit);
    }
  } else if (event.key === "Escape") {
    if (!ui.doc.hidden) closeDocument();
    else if (!inSearch) ui.input.focus();
  }
});

ui.input.addEventListener("keydown", (event) => {
  if (!event.isComposing) state.keyTime = performance.now();
});
ui.input.addEventListener("input", () => {
  state.keyTime = performance.now();
  scheduleSearch();
});
ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
for (const control of [ui.asOf, ui.superseded, ui.expired]) {
  control.addEventListener("change", () => {
    state.keyTime = performance.now();
    search();
  });
}
ui.docFilterClear.addEventListener("click", () => {
  state.onlyDoc = null;
  ui.docFilter.hidden = true;
  ui.docFilterTitle.textContent = "";
  search();
});
for (const button of ui.feedback.querySelectorAll("button[data-verdict]")) {
  button.addEventListener("click", () => feedback(button.dataset.verdict, button));
}
ui.docCopy.addEventListener("click", () => copyCitation(state.openHit));
ui.docClose.addEventListener("click", closeDocument);

document.body.dataset.ready = "true";
ui.input.focus();
