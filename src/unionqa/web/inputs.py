"""What the page may send, checked on the server: a caller of ``/gradio_api/queue/join`` can send anything, so
every handler input is checked here before the index sees it."""

from __future__ import annotations

from typing import Any

from unionqa.config import MODES as SEARCH_MODES
from unionqa.errors import QueryError
from unionqa.index import Index

MODES = dict(zip(("混合检索（推荐）", "语义检索", "关键词检索"), SEARCH_MODES))  # labels of config.MODES, in order
DEFAULT_MODE = "混合检索（推荐）"
TOP_K_MAX = 20  # the slider's range
EXAMPLES = [
    "惠州市总工会五年来调处了多少宗劳资纠纷？",
    "东莞市总工会免费送出了多少斤荔枝？",
    "河源市建成了多少家工会爱心驿站？",
    "What is the trade union's second medical insurance?",
    "佛岡縣總工會如何宣傳工會二次醫保？",
]


def top_k_number(value: Any) -> Any:
    """top_k from an HTTP caller: JSON may send 5.0 or "5" for 5; anything else goes unchanged to the index,
    whose check (``query.check_top_k``) gives the same QueryError as the Python API."""
    if isinstance(value, (float, str)):
        try:
            number = float(value)
        except ValueError:
            return value
        if number.is_integer():
            return int(number)
    return value


def _refused(message: str) -> QueryError:
    """A refusal whose message is already the Chinese the page shows."""
    return QueryError(message, zh=message)


def turn_inputs(ix: Index, mode_label: Any, top_k: Any, doc_filter: Any) -> tuple[str, int, list[str] | None]:
    """The page's settings checked on the server: a known mode label, a whole number of passages within the
    slider's range, documents the index holds."""
    if not isinstance(mode_label, str) or mode_label not in MODES:
        raise _refused(f"未知的检索方式：{str(mode_label)[:40]!r}（可选：{'、'.join(MODES)}）")
    k = top_k_number(top_k)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= TOP_K_MAX:
        raise _refused(f"参考段落数须是 1 到 {TOP_K_MAX} 之间的整数，不是 {str(top_k)[:20]}")
    if doc_filter is not None and not (isinstance(doc_filter, list) and all(isinstance(d, str) for d in doc_filter)):
        raise _refused("文档筛选须是文档列表")
    gone = [d for d in doc_filter or [] if d not in ix.documents]
    if gone:  # a page older than a rebuild, or a forged request: say so instead of searching everything
        raise _refused(f"所选文档已不在索引中：{'、'.join(d[:60] for d in gone[:3])}；请刷新页面后重新选择")
    return MODES[mode_label], k, list(doc_filter) if doc_filter else None
