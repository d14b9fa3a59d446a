"""``.html``/``.htm`` article pages (WeChat public accounts, government and union sites) → title,
publish date and body; navigation, share buttons and footers dropped.

trafilatura (Apache-2.0) was chosen over readability-lxml: on the fixture page both keep every body
paragraph and heading and drop the boilerplate, but only trafilatura also reads the title and publish
date from the page's metadata, and it gives headings as Markdown ``##`` directly
(benchmarks/compare_readers.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from unionqa.errors import DocumentError


def read_html(path: Path, html: str) -> tuple[str, str, str]:
    """(text, title, date) of an article page; DocumentError when no article body is found."""
    try:
        import trafilatura
    except ImportError as e:  # the formats extra is not installed
        raise DocumentError(f"{path}: reading web pages needs trafilatura ({e}); pip install 'unionqa[formats]'",
                            zh=f"{path.name}：读取网页的组件没有安装，请联系管理员") from None
    tree = trafilatura.load_html(html)  # parsed once for the body and the metadata
    if tree is None:
        raise DocumentError(f"{path}: not a readable web page; save the page again (File › Save as)",
                            zh=f"{path.name}：网页无法读取，请在浏览器中“另存为”后再上传")
    meta = trafilatura.extract_metadata(tree)  # before extract, which may prune the tree
    body = trafilatura.extract(tree, output_format="markdown", include_tables=True, include_formatting=True,
                               include_comments=False, include_links=False, include_images=False, favor_recall=True)
    title = (meta.title or "").strip() if meta else ""
    date = (meta.date or "").strip() if meta else ""
    if not body or not body.strip():
        raise DocumentError(f"{path}: no article text found in the page (a navigation or login page?)",
                            zh=f"{path.name}：网页中没有找到正文（可能是导航页或登录页）")
    # include_formatting keeps headings as "##" but also bold/italic as "**…**": keep the words only
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", body).strip()
    if date:
        # the page's own date/source line ("2025-01-15 08:00 广东工人报") is metadata: the record keeps the date
        lines = text.split("\n")
        for i, ln in enumerate(lines[:5]):
            if len(ln) <= 40 and date in ln.replace("/", "-").replace(".", "-"):
                del lines[i]
                break
        text = "\n".join(lines).strip()
    if title and not text.startswith("#"):
        text = f"# {title}\n\n{text}"
    return text, title, date
