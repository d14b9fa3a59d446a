"""Load test of the web UI's API on loopback: N concurrent clients, a fixed number of requests.

    python benchmarks/bench_load.py [--clients 20] [--requests 200] [--endpoint /search]
        [--index index] [--rebuild]

Starts ui.py on a free loopback port (or uses --url), drives it with gradio_client from N
threads and prints throughput, p50/p95/p99 latency and errors. With --rebuild, a full
rebuild of the same index directory runs during the load and the UI is told to reload
when it finishes: there should still be 0 errors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["惠州市总工会五年来调处了多少宗劳资纠纷？", "东莞免费送出了多少斤荔枝", "汕尾市总工会建设了多少家工会驿站？",
             "工会二次医保", "河源市工会林", "廣東省級職工療休養基地", "How many lychees did Dongguan give away?",
             "云浮市总工会连续多少年举办职工集体婚礼？"]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else 0.0


def start_ui(index: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(ROOT / "ui.py"), "--index", str(index), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    for _ in range(180):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except Exception:  # noqa: BLE001
            time.sleep(1)
    proc.kill()
    raise SystemExit("ui.py did not start")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--endpoint", default="/search", choices=("/search", "/ask"))
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--url", default=None)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the index (a copy) during the load")
    args = ap.parse_args()
    from gradio_client import Client

    tmp = None
    index = Path(args.index)
    if args.rebuild:  # never touch the committed index: work on a copy
        tmp = Path(tempfile.mkdtemp())
        shutil.copytree(index, tmp / "index")
        index = tmp / "index"
    proc, url = (None, args.url) if args.url else start_ui(index)
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    clients = [Client(url, verbose=False) for _ in range(args.clients)]

    def one(i: int) -> None:
        c = clients[i % len(clients)]
        t = time.perf_counter()
        try:
            r = c.predict(QUESTIONS[i % len(QUESTIONS)], 5, "hybrid", api_name=args.endpoint)
            ok = isinstance(r, list) or (isinstance(r, dict) and "error" not in r)
            if not ok:
                raise RuntimeError(str(r)[:100])
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(f"{type(e).__name__}: {e}"[:160])
        finally:
            with lock:
                lat.append(time.perf_counter() - t)

    rebuild_thread = None
    if args.rebuild:
        def rebuild() -> None:
            subprocess.run([sys.executable, "-m", "unionqa", "build", str(ROOT / "seeds"), "--index", str(index),
                            "--quiet"], check=True, capture_output=True)
            Client(url, verbose=False).predict(api_name="/reload")

        rebuild_thread = threading.Thread(target=rebuild)
    t0 = time.perf_counter()
    if rebuild_thread:
        rebuild_thread.start()
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        list(pool.map(one, range(args.requests)))
    wall = time.perf_counter() - t0
    if rebuild_thread:
        rebuild_thread.join()
    if proc:
        proc.terminate()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"endpoint {args.endpoint}  clients {args.clients}  requests {args.requests}  rebuild {args.rebuild}")
    print(f"throughput {args.requests / wall:.1f} req/s   p50 {pct(lat, 50) * 1000:.0f} ms   p95 {pct(lat, 95) * 1000:.0f} ms   "
          f"p99 {pct(lat, 99) * 1000:.0f} ms   errors {len(errors)}")
    for e in errors[:5]:
        print("  ", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
