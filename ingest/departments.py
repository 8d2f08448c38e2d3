"""Responsible departments named in task lists: "（责任部门：行政审批局、金融监管局）".

Work plans and policy packages end each task with the units that must carry it out.
Lifting them onto the segment lets a question such as "财政局负责哪些工作" be answered
by filtering instead of by hoping the retriever notices a bracketed aside. The text of
the item is left as it is; only the names are copied out.
"""

from __future__ import annotations

import re

__all__ = ["DEPARTMENT_NOTE", "ends_with_department_note", "extract_departments"]

#: A role label: "责任部门", "牵头单位", "配合单位", "责任 部门".
_ROLE = r"(?:牵头|责任|配合|参与|协办|主办|承办)\s*(?:部门|单位)"
#: A role label with its colon, capturing the role: "牵头单位：", "责任部门:".
_ROLE_LABEL = re.compile(r"(?P<role>牵头|责任|配合|参与|协办|主办|承办)\s*(?:部门|单位)\s*[：:]")
#: A bracketed annotation, one level of inner brackets allowed:
#: "（责任部门：行政审批局、金融监管局）", "[责任单位：市国资委，各县（市）区政府]".
DEPARTMENT_NOTE = re.compile(
    r"[（(【\[]\s*" + _ROLE + r"\s*[：:](?:[^（）()【】\[\]\n]|[（(][^（）()\n]*[）)])*[）)】\]]"
)
#: An annotation without brackets, up to the next full stop or whitespace (flattened pages
#: run the next item on after a space): "牵头单位：市财政局；责任单位：市工信局、市卫生健康委".
_BARE_NOTE = re.compile(_ROLE + r"\s*[：:][^\S\n]*[^\s。]*")
#: An annotation closing a paragraph, as the last thing in it.
_NOTE_AT_END = re.compile("(?:" + DEPARTMENT_NOTE.pattern + r"|(?:^|\n)[^\S\n]*" + _BARE_NOTE.pattern + r")[。.]?\s*$")
#: Words after a name that give its role rather than belong to it: "市政府办公室牵头", "各部门参与".
_ROLE_SUFFIX = re.compile(r"(?P<suffix>牵头|负责|参与|配合|协助|落实|等)+$")
_OPENING = "（(【["
_CLOSING = "）)】]"
_SEPARATORS = "、，,；;"
#: Annotation tails longer than this are not looked at: a note is a few hundred characters at most.
_NOTE_WINDOW = 600


def extract_departments(text: str) -> tuple[str, ...]:
    """The departments named in the responsibility annotations of ``text``, leads first.

    "牵头单位：X；责任单位：Y、Z" gives ("X", "Y", "Z"); "（责任部门：市政府办公室牵头，
    各板块各部门参与）" gives ("市政府办公室", "各板块各部门"). Duplicates are dropped.
    """
    if "部门" not in text and "单位" not in text:
        return ()
    notes = [m.span() for m in DEPARTMENT_NOTE.finditer(text)]
    for match in _BARE_NOTE.finditer(text):
        if not any(start <= match.start() < end for start, end in notes):
            notes.append(match.span())
    leads: list[str] = []
    others: list[str] = []
    for start, end in sorted(notes):
        for lead, name in _names(text[start:end]):
            (leads if lead else others).append(name)
    return tuple(dict.fromkeys(leads + others))


def ends_with_department_note(text: str) -> bool:
    """Whether ``text`` ends with a responsibility annotation, which by convention closes a task item."""
    tail = text[-_NOTE_WINDOW:]
    if "部门" not in tail and "单位" not in tail:
        return False
    return _NOTE_AT_END.search(tail) is not None


def _names(note: str) -> list[tuple[bool, str]]:
    """(is_lead, name) pairs of one annotation, in the order written."""
    labels = list(_ROLE_LABEL.finditer(note))
    pairs: list[tuple[bool, str]] = []
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(note)
        body = note[label.end() : end].strip().rstrip("。.").strip()
        if body and body[-1] in _CLOSING and _balance(body) < 0:
            body = body[:-1]  # the annotation's own closing bracket
        for raw in _split(body):
            name = raw.strip()
            suffix = _ROLE_SUFFIX.search(name)
            lead = label.group("role") == "牵头" or bool(suffix and "牵头" in suffix.group(0))
            if suffix:
                name = name[: suffix.start()].strip()
            if name:
                pairs.append((lead, name))
    return pairs


def _balance(text: str) -> int:
    return sum(ch in _OPENING for ch in text) - sum(ch in _CLOSING for ch in text)


def _split(body: str) -> list[str]:
    """Split a list of names at 、，； but not inside brackets: "各县（市、区）政府" stays whole."""
    parts, depth, start = [], 0, 0
    for index, ch in enumerate(body):
        if ch in _OPENING:
            depth += 1
        elif ch in _CLOSING:
            depth = max(0, depth - 1)
        elif ch in _SEPARATORS and depth == 0:
            parts.append(body[start:index])
            start = index + 1
    parts.append(body[start:])
    return parts
