"""The index the web app serves: loaded once, warmed in the background, swapped for a rebuilt one without a
restart (``App.reload``)."""

from __future__ import annotations

import html
import threading

from unionqa.answer.reader import WEIGHTS as READER_WEIGHTS
from unionqa.answer.reader import load_reader
from unionqa.errors import UnionQAError
from unionqa.feedback import feedback_path
from unionqa.index import Index
from unionqa.search.embedding import load_embedder
from unionqa.web.render import document_choices, index_summary


class App:
    """Holds the live index; reload() swaps in a rebuilt one without a restart."""

    def __init__(self, index_dir: str, threads: int | None = None) -> None:
        self.index_dir = index_dir
        self.threads = threads
        self._reloading = threading.Lock()  # one load at a time: a reload is a full verified load
        self.index = Index.load(index_dir)
        self.feedback_file = feedback_path(index_dir)

    def warm(self) -> None:
        """Load the embedding model and the reader in the background so the first question is not slow."""
        def load() -> None:
            load_embedder(self.index.model_name, threads=self.threads)  # cached: the index's embedder is this one
            self.index.embedder  # noqa: B018 - touching it loads it
            if READER_WEIGHTS.is_file():  # the answer reader too (its graph is built into the cache once)
                load_reader(threads=self.threads)

        threading.Thread(target=load, daemon=True).start()

    def reload(self, wait: bool = False) -> str:
        """Switch to the generation live on disk. One reload runs at a time (others are told so), and a reload
        when nothing was rebuilt costs one small file read, so /reload cannot be used to pile up full loads.
        ``wait``: queue behind a running reload instead (after a document job, whose index must be served)."""
        if not self._reloading.acquire(blocking=wait):
            return "另一个重新加载正在进行，请稍后再试"
        try:
            if Index.live_generation(self.index_dir) == self.index.generation_name:
                return f"索引没有变化：{index_summary(self.index)}"
            # one reference assignment, under the reload lock: a request sees the old index or the new one
            self.index = fresh = Index.load(self.index_dir)
        except UnionQAError as e:
            return f"重新加载失败，仍在使用原索引：{e.chinese}"
        finally:
            self._reloading.release()
        return f"已加载最新的索引：{index_summary(fresh)}"

    def doc_ids(self) -> list[str]:
        """The doc ids of the index being served."""
        return sorted(self.index.documents)

    def doc_choices(self) -> list[tuple[str, str]]:
        """The document filter's choices: (title, doc id) of the index being served."""
        return document_choices(self.index)

    def footer(self) -> str:
        return f'<div class="uq-footer">{html.escape(index_summary(self.index))}</div>'
