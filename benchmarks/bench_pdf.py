"""PDF reading at size, and OCR quality (issue 13 bars).

    python benchmarks/bench_pdf.py [--work .cache/bench_pdf] [--scan-pages 20] [--text-pages 300]

1. OCR character accuracy of tests/data/formats/scanned.pdf against the same page's text layer
   (report.pdf page 1): 1 − edit distance / reference length, on the body (the running header a
   single scanned page keeps is left out) and on everything.
2. A scanned PDF of --scan-pages pages (the Chromium-printed seeds of benchmarks/bench_formats.py,
   rendered at 150 dpi, saved as an image-only PDF by Pillow) built with the default model: time,
   seconds per page, peak RSS, page progress as the CLI shows it.
3. A text PDF of --text-pages pages (the same PDFs repeated): read + chunk + tokenize time and peak RSS
   (embedding is the same per chunk as any build: README "Speed").
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from unionqa import Index
from unionqa.config import ChunkingConfig
from unionqa.ingest.documents import read_document
from unionqa.search.tokenize import JiebaTokenizer
from unionqa.store.build import chunk_all, tokenize_all
from unionqa.text import squash

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT / "tests" / "data" / "formats"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def edit_distance(a: str, b: str) -> int:
    prev = np.arange(len(b) + 1)
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    for i, ch in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[:-1] + (codes != ord(ch)), prev[1:] + 1)
        for j in range(1, len(cur)):  # insertions run left to right
            if cur[j - 1] + 1 < cur[j]:
                cur[j] = cur[j - 1] + 1
        prev = cur
    return int(prev[-1])


def ocr_accuracy() -> None:
    t = time.perf_counter()
    scanned = read_document(FORMATS / "scanned.pdf").text
    took = time.perf_counter() - t
    ref_doc = read_document(FORMATS / "report.pdf")
    ref = squash(ref_doc.text[: ref_doc.pages[1]]).replace("#", "")
    body = squash(scanned.split("\n", 1)[1]).replace("#", "")
    everything = squash(scanned).replace("#", "")
    print(f"OCR of scanned.pdf (1 A5 page, {took:.1f}s): character accuracy "
          f"{1 - edit_distance(body, ref) / len(ref):.3f} on the body, "
          f"{1 - edit_distance(everything, ref) / len(ref):.3f} with the running header it keeps ({len(ref)} reference chars)")


def source_pdfs(work: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_formats import write_formats

    folder = work / "docs" / "pdf"
    if not folder.exists() or not list(folder.glob("*.pdf")):
        write_formats(work, ["pdf"])
    return sorted(folder.glob("*.pdf"))


def make_scan(pdfs: list[Path], pages: int, out: Path) -> None:
    import pypdfium2 as pdfium

    images = []
    for p in pdfs:
        doc = pdfium.PdfDocument(str(p))
        for i in range(len(doc)):
            if len(images) < pages:
                images.append(doc[i].render(scale=150 / 72, grayscale=True).to_pil().convert("L"))
        doc.close()
    while len(images) < pages:
        images.append(images[len(images) % max(1, len(images))])
    images[0].save(out, save_all=True, append_images=images[1:], resolution=150)


def make_long(pdfs: list[Path], pages: int, out: Path) -> None:
    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    while len(merged) < pages:
        for p in pdfs:
            src = pdfium.PdfDocument(str(p))
            take = min(len(src), pages - len(merged))
            if take > 0:
                merged.import_pages(src, list(range(take)))
            src.close()
    merged.save(str(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=str(ROOT / ".cache" / "bench_pdf"))
    ap.add_argument("--scan-pages", type=int, default=20)
    ap.add_argument("--text-pages", type=int, default=300)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ocr_accuracy()
    pdfs = source_pdfs(work)

    long_pdf = work / f"text-{args.text_pages}.pdf"
    make_long(pdfs, args.text_pages, long_pdf)
    before = rss_mb()
    t = time.perf_counter()
    doc = read_document(long_pdf)
    read_s = time.perf_counter() - t
    chunks = chunk_all([doc], ChunkingConfig())
    tokenize_all(chunks, JiebaTokenizer(), None)
    print(f"text PDF, {len(doc.pages)} pages ({long_pdf.stat().st_size / 1e6:.1f} MB): read {read_s:.1f}s "
          f"({read_s / len(doc.pages) * 1000:.0f} ms/page), read+chunk+tokenize {time.perf_counter() - t:.1f}s, "
          f"{len(chunks)} chunks, peak RSS {rss_mb():.0f} MB (process before: {before:.0f} MB)")

    scan = work / f"scan-{args.scan_pages}.pdf"
    make_scan(pdfs, args.scan_pages, scan)
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "page" and time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  page {done}/{total}", flush=True)

    t = time.perf_counter()
    ix = Index.build([scan], work / "index-scan", progress=progress)
    took = time.perf_counter() - t
    print(f"scanned PDF, {args.scan_pages} pages ({scan.stat().st_size / 1e6:.1f} MB): built in {took:.0f}s "
          f"({ix.manifest['timings']['read'] / args.scan_pages:.1f} s/page OCR), {len(ix.chunks)} chunks, "
          f"peak RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
