// The public JSON API, as the pages use it. Ids contain "#", ":" and Chinese, so they are
// always sent percent-encoded in paths.

/** An error from the API, carrying its stable code (e.g. "not_found", "question_empty"). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

async function request(path, options = {}) {
  const init = { method: options.method || "GET", headers: { Accept: "application/json" }, signal: options.signal };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const apiError = new ApiError(response.status, error.code || `http_${response.status}`, error.message);
    apiError.details = error.details || [];
    throw apiError;
  }
  return data;
}

// Whether /v1/ask takes a "channel" (console, widget) to tell the activity log where a
// question came from. Older services refuse unknown fields; then it is not sent again.
let channelAccepted = true;

function refusedUnknownField(error) {
  return error instanceof ApiError && error.status === 422 && error.code === "invalid_request" &&
    (error.details || []).some((detail) => detail.type === "extra_forbidden");
}

/** Ask a question: {question, top_k, filters?, channel?} -> the answer (hits, reason, query_id?). */
export async function ask({ question, topK, filters, channel, signal }) {
  const body = { question, top_k: topK };
  if (filters && Object.keys(filters).length) body.filters = filters;
  if (channel && channelAccepted) {
    try {
      return await request("/v1/ask", { method: "POST", body: { ...body, channel }, signal });
    } catch (error) {
      if (!refusedUnknownField(error)) throw error;
      channelAccepted = false;
    }
  }
  return request("/v1/ask", { method: "POST", body, signal });
}

/** A document with its text and segments. */
export function getDocument(docId, signal) {
  return request(`/v1/documents/${encodeURIComponent(docId)}`, { signal });
}

/** A segment with the facts needed to cite it. */
export function getSegment(segmentId, signal) {
  return request(`/v1/segments/${encodeURIComponent(segmentId)}`, { signal });
}

/** Feedback on an answer: verdict is helpful, not_helpful or correct_passage. */
export function sendFeedback({ queryId, verdict, segmentId, comment }) {
  const body = { query_id: queryId, verdict };
  if (segmentId) body.segment_id = segmentId;
  if (comment) body.comment = comment;
  return request("/v1/feedback", { method: "POST", body });
}

/** Answers that have nothing to show: the reasons the engine gives for an empty answer. */
export const NO_ANSWER_REASONS = new Set(["no_answer", "no_match", "no_searchable_terms"]);

export function isNoAnswer(answer) {
  return !answer || !answer.hits || answer.hits.length === 0 || NO_ANSWER_REASONS.has(answer.reason);
}
