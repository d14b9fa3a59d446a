"""Where a Milvus index lives: ``milvus:PATH.db`` (Milvus Lite) or ``milvus://HOST:PORT/NAME`` (a server)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from unionqa.errors import IndexFormatError

PREFIX = "milvus:"
DEFAULT_NAME = "unionqa"
# Milvus collection and alias names: a letter or underscore, then letters, digits, underscores (≤ 255); the
# generation suffix takes 30 of them
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
_SERVER = re.compile(r"milvus(s?)://([^/?#\s]+)(?:/([^/?#\s]*))?/?")


def is_milvus(location: object) -> bool:
    """True for an index location naming a Milvus store (``milvus:…``); local index directories are anything else."""
    return isinstance(location, str) and location.startswith(PREFIX)


@dataclass(frozen=True)
class MilvusLocation:
    """A parsed ``milvus:`` location.

    ``uri`` is what pymilvus connects to (a ``.db`` path for Milvus Lite, ``http(s)://HOST:PORT`` for a server),
    ``name`` the alias readers use (the live collection is ``NAME_g<stamp>``), ``token`` the server's token.
    """

    text: str
    uri: str
    name: str
    token: str = ""

    @property
    def lite(self) -> bool:
        return not self.uri.startswith(("http://", "https://"))

    @classmethod
    def parse(cls, text: str) -> MilvusLocation:
        """Parse ``milvus:PATH.db`` or ``milvus://HOST[:PORT]/NAME`` (``milvuss://`` for TLS); IndexFormatError
        with the accepted forms for anything else."""
        forms = "use milvus:PATH.db (Milvus Lite) or milvus://HOST:19530/NAME (a Milvus server)"
        if text.startswith("milvus://") or text.startswith("milvuss://"):
            m = _SERVER.fullmatch(text)
            if not m:
                raise IndexFormatError(f"{text}: not a Milvus address; {forms}")
            scheme = "https" if m.group(1) else "http"
            host = m.group(2) if ":" in m.group(2) else f"{m.group(2)}:19530"
            name = m.group(3) or DEFAULT_NAME
            if not _NAME.fullmatch(name):
                raise IndexFormatError(f"{text}: {name!r} is not a Milvus collection name (letters, digits, _)")
            return cls(text, f"{scheme}://{host}", name, os.environ.get("UNIONQA_MILVUS_TOKEN", ""))
        path = text[len(PREFIX):]
        if not path or not path.endswith(".db"):
            raise IndexFormatError(f"{text}: a Milvus Lite index is a path ending in .db; {forms}")
        return cls(text, str(Path(path).expanduser()), DEFAULT_NAME)
