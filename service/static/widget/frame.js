// The widget's conversation, inside the iframe that widget.js opens. Same origin as the API,
// so /v1/ask needs no CORS; every question and passage is put on the page as text.
import { ApiError, ask, isNoAnswer } from "../console/api.js";
import { el, excerptNode, statusBadge } from "../console/dom.js";

const TOP_K = 3;
const EXCERPT_CHARS = 120;
// Passages scoring under this share of the best one are left out (scores compare within an answer).
const RELATIVE_SCORE = 0.5;
// A telephone number as a caller dials it, e.g. "12345" or "0512-52712345".
const PHONE = /^[0-9+][0-9 -]{1,19}$/;

const params = new URLSearchParams(location.search);
const fallback = document.querySelector('meta[name="policykb-hotline"]').content;
const hotline = PHONE.test(params.get("hotline") || "") ? params.get("hotline") : fallback;
const log = document.getElementById("log");
const form = document.getElementById("ask");
const input = document.getElementById("question");
if (params.get("title")) document.getElementById("title").textContent = params.get("title").slice(0, 40);

function say(className, children) {
  const message = el("div", { class: `msg ${className}` }, children);
  log.append(message);
  message.scrollIntoView({ block: "end" });
  return message;
}

function hotlineOffer(text) {
  return [
    el("p", { text }),
    el("p", { class: "hotline" }, ["请拨打政务服务热线 ", el("a", { text: hotline, attrs: { href: `tel:${hotline.replace(/[ -]/g, "")}` } }), " 咨询人工客服。"]),
  ];
}

function answerNodes(answer) {
  if (isNoAnswer(answer)) {
    const text = answer && answer.reason === "no_searchable_terms"
      ? "请把问题说得具体一些，例如办理什么事项、哪类人员。"
      : "抱歉，没有找到能回答这个问题的政策原文。";
    return { noAnswer: true, nodes: hotlineOffer(text) };
  }
  // A citizen reads a short answer: the passages that score near the best one, at most three.
  const best = answer.hits[0].score;
  const hits = answer.hits.filter((hit) => !hit.same_text_as && hit.score >= best * RELATIVE_SCORE).slice(0, TOP_K);
  const nodes = [el("p", { text: "找到以下政策依据：" })];
  for (const hit of hits) {
    const source = el("p", { class: "source" }, [
      `——《${hit.title}》`,
      hit.doc_number ? `（${hit.doc_number}）` : "",
      hit.locator ? ` ${hit.locator}` : "",
    ]);
    if (hit.status !== "in_force") source.append(" ", statusBadge(hit.status));
    const link = el("a", { class: "open", text: "查看原文", attrs: {
      href: `/passage?segment=${encodeURIComponent(hit.segment_id)}`, target: "_blank", rel: "noopener noreferrer" } });
    nodes.push(el("blockquote", { class: "cite", attrs: { "data-segment-id": hit.segment_id } }, [
      el("p", { class: "passage" }, [excerptNode(hit, EXCERPT_CHARS)]), source, link,
    ]));
  }
  return { noAnswer: false, nodes };
}

let busy = false;
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question || busy) return;
  busy = true;
  input.value = "";
  say("user", [el("p", { text: question })]);
  const pending = say("bot pending", [el("p", { text: "正在查找…" })]);
  let reply;
  try {
    reply = answerNodes(await ask({ question, topK: TOP_K, channel: "widget" }));
  } catch (error) {
    const text = error instanceof ApiError && error.status < 500 && error.code.startsWith("question_")
      ? "这个问题无法查询，请换一种说法。"
      : "服务暂时不可用。";
    reply = { noAnswer: true, nodes: hotlineOffer(text) };
  }
  pending.remove();
  say(reply.noAnswer ? "bot no-answer" : "bot answer", reply.nodes);
  busy = false;
  input.focus();
});

document.getElementById("close").addEventListener("click", () => {
  window.parent.postMessage({ type: "policykb:close" }, "*");
});
document.body.dataset.ready = "true";
input.focus();
