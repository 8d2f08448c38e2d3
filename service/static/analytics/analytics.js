// The analyst view: reads /v1/analytics/… and draws tables and SVG charts.
// Every text from the server (questions, titles, ids) goes through textContent, never HTML, and
// nothing runs inline, so the page works under a Content-Security-Policy without 'unsafe-inline'.

const SVG = "http://www.w3.org/2000/svg";
const STATUS = { in_force: "有效", superseded: "已被替代", expired: "已失效" };
const REASON = { no_answer: "非政策问题", no_searchable_terms: "无可检索词", no_hits: "未找到" };
const CHANNEL = { console: "坐席", widget: "网站", api: "API" };
const VERDICTS = ["helpful", "not_helpful", "correct_passage"];
const VERDICT = { helpful: "有用", not_helpful: "没用", correct_passage: "确认段落" };
const PAGE_SIZE = 50;

const KEY_STORAGE = "policykb-analytics-key";
const state = { days: 30, offset: 0, key: sessionStorage.getItem(KEY_STORAGE) || "" };

// The analyst view needs a key with analytics:read (the query log is about citizens, even masked).
class NeedsKey extends Error {}

function $(id) { return document.getElementById(id); }

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function svgEl(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function percent(value) { return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`; }
function shortTime(stamp) { return stamp ? stamp.slice(0, 16).replace("T", " ") : "—"; }

async function api(path, params) {
  const query = new URLSearchParams({ days: String(state.days), ...(params || {}) });
  const headers = { Accept: "application/json" };
  if (state.key) headers.Authorization = `Bearer ${state.key}`;
  const response = await fetch(`/v1/analytics/${path}?${query}`, { headers });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 || response.status === 403) throw new NeedsKey((body.error && body.error.message) || "");
  if (!response.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

function fillRows(tbody, rows, emptyText, columns) {
  tbody.replaceChildren();
  if (!rows.length) {
    const row = el("tr");
    const cell = el("td", emptyText, "empty");
    cell.colSpan = columns;
    row.append(cell);
    tbody.append(row);
  }
  for (const cells of rows) {
    const row = el("tr");
    for (const cell of cells) row.append(cell);
    tbody.append(row);
  }
}

function cell(text, className) { return el("td", text, className); }

function renderSummary(data) {
  const judged = data.feedback.helpful + data.feedback.not_helpful;
  const items = [
    ["问题", data.queries],
    ["未答", `${data.unanswered}（${percent(data.queries ? data.unanswered / data.queries : null)}）`],
    ["其中非政策问题", data.no_answer],
    ["反馈", VERDICTS.reduce((sum, v) => sum + data.feedback[v], 0)],
    ["有用率", percent(judged ? data.feedback.helpful / judged : null)],
    ["确认段落", data.feedback.correct_passage],
    ["检索耗时 p50", data.latency_ms.p50 === null ? "—" : `${data.latency_ms.p50.toFixed(1)} ms`],
  ];
  for (const [channel, count] of Object.entries(data.channels)) items.push([`渠道：${CHANNEL[channel] || channel}`, count]);
  const list = $("summary");
  list.replaceChildren();
  for (const [label, value] of items) {
    const box = el("div");
    box.append(el("dt", label), el("dd", value));
    list.append(box);
  }
}

function renderDaily(perDay) {
  const holder = $("daily-chart");
  holder.replaceChildren();
  if (!perDay.length) { holder.append(el("p", "这段时间没有问题。", "empty")); return; }
  const width = 900, height = 240, left = 40, right = 40, top = 10, bottom = 30;
  const plotW = width - left - right, plotH = height - top - bottom;
  const most = Math.max(1, ...perDay.map((d) => Math.max(d.queries, VERDICTS.reduce((s, v) => s + d[v], 0))));
  const band = plotW / perDay.length;
  const chart = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "每日问题与反馈" });
  chart.append(svgEl("line", { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, class: "axis" }));
  chart.append(svgEl("text", { x: left - 6, y: top + 10, "text-anchor": "end" }, most));
  chart.append(svgEl("text", { x: left - 6, y: top + plotH, "text-anchor": "end" }, 0));
  chart.append(svgEl("text", { x: left + plotW + 6, y: top + 10 }, "100%"));
  const scale = (value) => (value / most) * plotH;
  const points = [];
  const every = Math.max(1, Math.ceil(perDay.length / 12));
  perDay.forEach((day, i) => {
    const x = left + i * band;
    const barW = Math.min(24, Math.max(2, band * 0.4));
    const x0 = x + band / 2 - barW - 0.5;
    const queryBar = svgEl("rect", { x: x0, y: top + plotH - scale(day.queries), width: barW,
      height: scale(day.queries), class: "bar-queries" });
    queryBar.append(svgEl("title", {}, `${day.day} 问题 ${day.queries}`));
    chart.append(queryBar);
    let stacked = 0;
    for (const verdict of VERDICTS) {
      if (!day[verdict]) continue;
      const h = scale(day[verdict]);
      const bar = svgEl("rect", { x: x0 + barW + 1, y: top + plotH - scale(stacked) - h, width: barW,
        height: h, class: `bar-${verdict}` });
      bar.append(svgEl("title", {}, `${day.day} ${VERDICT[verdict]} ${day[verdict]}`));
      chart.append(bar);
      stacked += day[verdict];
    }
    if (day.helpful_rate !== null) points.push([x + band / 2, top + plotH - day.helpful_rate * plotH, day]);
    if (i % every === 0) {
      chart.append(svgEl("text", { x: x + band / 2, y: height - 10, "text-anchor": "middle" }, day.day.slice(5)));
    }
  });
  if (points.length) {
    chart.append(svgEl("polyline", { points: points.map(([x, y]) => `${x},${y}`).join(" "), class: "line-rate" }));
    for (const [x, y, day] of points) {
      const dot = svgEl("circle", { cx: x, cy: y, r: 3, class: "dot-rate" });
      dot.append(svgEl("title", {}, `${day.day} 有用率 ${percent(day.helpful_rate)}`));
      chart.append(dot);
    }
  }
  holder.append(chart);
}

function renderGaps(data) {
  const rows = data.gaps.map((gap) => {
    const examples = el("ul", null, "examples");
    for (const example of gap.examples) examples.append(el("li", example));
    const exampleCell = el("td");
    exampleCell.append(examples);
    const reasons = Object.entries(gap.reasons).map(([r, n]) => `${REASON[r] || r} ${n}`).join("，");
    return [cell(gap.count, "number"), cell(gap.distinct, "number"), exampleCell, cell(reasons),
      cell(shortTime(gap.last_asked))];
  });
  fillRows($("gaps").tBodies[0], rows, "没有未答的问题。", 5);
}

function documentName(doc) {
  if (!doc.in_kb) return `${doc.doc_id}（已删除）`;
  return doc.doc_number ? `${doc.title}（${doc.doc_number}）` : doc.title;
}

function renderCited(data) {
  const holder = $("cited-chart");
  holder.replaceChildren();
  $("coverage").textContent = `知识库 ${data.documents} 个文件，被引用 ${data.cited} 个，从未被引用 ${data.never_cited.total} 个。`;
  const docs = data.most_cited.slice(0, 15);
  if (!docs.length) {
    holder.append(el("p", "这段时间没有引用。", "empty"));
  } else {
    const rowH = 24, labelW = 420, width = 900, barMax = width - labelW - 60;
    const most = Math.max(...docs.map((d) => d.citations));
    const chart = svgEl("svg", { viewBox: `0 0 ${width} ${docs.length * rowH + 4}`, role: "img",
      "aria-label": "被引用最多的文件" });
    docs.forEach((doc, i) => {
      const y = i * rowH + 2;
      const name = documentName(doc);
      const label = svgEl("text", { x: labelW - 8, y: y + 16, "text-anchor": "end", class: "label" },
        name.length > 34 ? `${name.slice(0, 33)}…` : name);
      label.append(svgEl("title", {}, name));
      const w = Math.max(2, (doc.citations / most) * barMax);
      const bar = svgEl("rect", { x: labelW, y: y + 4, width: w, height: rowH - 8, class: "bar-cited" });
      bar.append(svgEl("title", {}, `${name}：引用 ${doc.citations}，首条 ${doc.first}`));
      chart.append(label, bar, svgEl("text", { x: labelW + w + 6, y: y + 16 }, doc.citations));
    });
    holder.append(chart);
  }
  const list = $("never-cited");
  list.replaceChildren();
  for (const doc of data.never_cited.documents) list.append(el("li", documentName(doc)));
  if (!data.never_cited.total) list.append(el("li", "每个文件都被引用过。", "empty"));
  if (data.never_cited.total > data.never_cited.documents.length) {
    list.append(el("li", `……共 ${data.never_cited.total} 个`, "empty"));
  }
}

function renderOutdated(data) {
  $("outdated-share").textContent = `共引用 ${data.citations} 条段落，其中 ${data.outdated_citations} 条来自当时已不再有效的文件（${percent(data.share)}）。`;
  const rows = data.documents.map((doc) => [cell(documentName(doc)), cell(STATUS[doc.status] || doc.status),
    cell(doc.status_now ? STATUS[doc.status_now] || doc.status_now : "—"), cell(doc.superseded_by || "—"),
    cell(doc.citations, "number"), cell(shortTime(doc.last_cited))]);
  fillRows($("outdated").tBodies[0], rows, "没有引用已废止或已失效的文件。", 6);
}

function renderLog(data) {
  const rows = data.queries.map((query) => {
    const first = query.hits.length ? query.hits[0].segment_id : REASON[query.reason || "no_hits"] || query.reason;
    const verdicts = query.feedback.map((f) => VERDICT[f.verdict] || f.verdict).join("，") || "—";
    return [cell(shortTime(query.asked_at)), cell(CHANNEL[query.channel] || query.channel), cell(query.question),
      cell(`${query.hit_count} 条`, "number"), cell(first), cell(`${query.latency_ms.toFixed(1)} ms`, "number"),
      cell(verdicts)];
  });
  fillRows($("log").tBodies[0], rows, "没有记录。", 7);
  const last = Math.min(data.total, data.offset + data.queries.length);
  $("page").textContent = data.total ? `${data.offset + 1}–${last} / ${data.total}` : "0";
  $("prev").disabled = data.offset === 0;
  $("next").disabled = last >= data.total;
}

async function loadLog() {
  const params = { limit: String(PAGE_SIZE), offset: String(state.offset) };
  if ($("unanswered").checked) params.unanswered = "true";
  if ($("channel").value) params.channel = $("channel").value;
  renderLog(await api("queries", params));
}

function askForKey(message) {
  const status = $("status");
  status.className = "error";
  status.textContent = message;
  $("key-form").hidden = false;
  $("key").focus();
}

async function loadAll() {
  const status = $("status");
  if (!state.key) {  // nothing to load without a key: ask first instead of collecting 401s
    askForKey("请输入分析密钥");
    return;
  }
  status.className = "";
  status.textContent = "加载中…";
  try {
    const [summary, feedback, gaps, documents, outdated] = await Promise.all([
      api("summary"), api("feedback"), api("gaps"), api("documents", { limit: "20" }), api("outdated"),
    ]);
    renderSummary(summary);
    renderDaily(feedback.per_day);
    renderGaps(gaps);
    renderCited(documents);
    renderOutdated(outdated);
    await loadLog();
    status.textContent = `已更新 ${new Date().toLocaleTimeString()}`;
    $("key-form").hidden = true;
  } catch (error) {
    status.className = "error";
    if (error instanceof NeedsKey) {
      askForKey("密钥无效、已吊销或没有 analytics:read 权限");
      return;
    }
    status.textContent = `无法加载：${error.message}`;
  }
}

function onLogChange() {
  state.offset = 0;
  loadLog().catch((error) => { $("status").textContent = `无法加载：${error.message}`; });
}

function start() {
  $("days").addEventListener("change", () => { state.days = Number($("days").value); state.offset = 0; loadAll(); });
  $("unanswered").addEventListener("change", onLogChange);
  $("channel").addEventListener("change", onLogChange);
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadLog(); });
  $("next").addEventListener("click", () => { state.offset += PAGE_SIZE; loadLog(); });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem(KEY_STORAGE, state.key);
    $("key").value = "";
    loadAll();
  });
  state.days = Number($("days").value);
  loadAll();
}

start();
