"""Exceptions raised by unionqa; every message is one line a user can act on."""

from __future__ import annotations


class UnionQAError(Exception):
    """Base class: anything the CLI and UI report as a one-line error.

    The message (``str(e)``) is English, for the CLI and logs; ``chinese`` is what the web UI shows: the Chinese
    message given as ``zh=`` where one was written, else the class's Chinese summary (``zh_default``)."""

    zh_default = "出错了，请稍后再试"

    def __init__(self, *args: object, zh: str = "") -> None:
        super().__init__(*args)
        self.zh = zh

    @property
    def chinese(self) -> str:
        return self.zh or self.zh_default


class DocumentError(UnionQAError):
    """A source document cannot be read or decoded."""

    zh_default = "无法读取这个文件"


class EmptyCorpusError(UnionQAError):
    """Nothing indexable was found in the sources."""

    zh_default = "文件中没有可以建立索引的文字"


class IndexFormatError(UnionQAError):
    """An index directory is missing, damaged, or written by an incompatible build."""

    zh_default = "索引缺失或已损坏，请重新建立索引"


class ModelUnavailableError(UnionQAError):
    """The embedding model cannot be loaded (offline, missing, or broken)."""

    zh_default = "模型无法加载"


class QueryError(UnionQAError):
    """A query or its parameters are not acceptable."""

    zh_default = "无法处理这个问题"


class BuildLockedError(UnionQAError):
    """Another build holds the lock on this index directory."""

    zh_default = "另一个索引任务正在进行，请稍后再试"


class IndexWriteError(UnionQAError, OSError):
    """The index could not be written (disk full, not a directory, no permission); the previous one still serves.

    Also an OSError, so callers that catch file-system errors keep working."""

    zh_default = "无法写入索引（磁盘已满或没有写入权限），仍在使用原索引"


class StoreUnavailableError(UnionQAError):
    """The store holding an index cannot be reached or opened (a Milvus server down, a Milvus Lite file in use)."""

    zh_default = "无法连接索引存储"
