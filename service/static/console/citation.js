// A ready-to-read citation of a hit, as an agent would read it to a caller:
// 根据《常熟市2019年政务公开工作要点》（常政办发〔2019〕143号）三、（四）：……（责任部门：财政局）

// The numbering at the head of a heading: 第五章 / 第五十四条 / 三、 / （四） / 1. / （2）
const ENUMERATOR = /^\s*(第[〇零一二三四五六七八九十百千两\d]+[编章节条款项]|[〇零一二三四五六七八九十百]+、|（[〇零一二三四五六七八九十百\d]+）|\([〇零一二三四五六七八九十百\d]+\)|\d+[.、．])/;
// An article number: from it on, the chapters above it are left out of the citation.
const ARTICLE = /^第[〇零一二三四五六七八九十百千两\d]+条/;
// "关于印发《X》的通知" cites X, the document that the notice publishes.
const PUBLISHED = /关于(?:印发|转发|公布)《(.+?)》的(?:通知|决定)/;
// A passage that already names its responsible department.
const HAS_DEPARTMENT = /（责任(?:部门|单位)[:：]/;

/** The title to cite: the published document's own title for an 印发 notice. */
export function citedTitle(title) {
  const published = PUBLISHED.exec(title || "");
  if (published) return published[1];
  return (title || "").replace(/^《(.+)》$/, "$1");
}

/** Where in the document: the numbering of each heading (三、（四）), or the locator. */
export function citedPlace(hit) {
  const numbers = [];
  for (const heading of hit.section_path || []) {
    const match = ENUMERATOR.exec(heading);
    if (match) numbers.push(match[1].trim());
  }
  const article = numbers.findIndex((number) => ARTICLE.test(number));
  const place = (article >= 0 ? numbers.slice(article) : numbers).join("");
  return place || hit.locator || "";
}

/** The passage text with its own leading numbering removed when the place already says it. */
function passageText(hit, place) {
  let text = (hit.text || "").trim().replace(/\s+/g, " ");
  const own = ENUMERATOR.exec(text);
  if (own && place.endsWith(own[1].trim())) text = text.slice(own[0].length).trim();
  return text;
}

/** The whole citation as one line of text. */
export function citationText(hit) {
  const title = citedTitle(hit.title);
  const place = citedPlace(hit);
  let text = `根据《${title}》`;
  if (hit.doc_number) text += `（${hit.doc_number}）`;
  text += place;
  const body = passageText(hit, place);
  if (body) text += `：${body}`;
  const departments = hit.departments || [];
  if (departments.length && !HAS_DEPARTMENT.test(body)) text += `（责任部门：${departments.join("、")}）`;
  return text;
}
