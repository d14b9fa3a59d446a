"""Load test of the web UI's API on loopback: N concurrent clients, a fixed number of requests.

    python benchmarks/bench_load.py [--clients 20] [--requests 200] [--endpoint /search]
        [--index index] [--rebuild] [--client http|gradio_client] [--warmup 20]

Starts ui.py on a free loopback port (or uses --url), drives it from N threads with plain
HTTP through Gradio's REST call API (or --client gradio_client) and prints throughput,
p50/p95/p99 latency and errors. With --rebuild, a full rebuild of the same index directory
runs during the load and the UI is told to reload when it finishes: there should still be
0 errors.
"""

from __future__ import annotations

import argparse
import json
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


def http_call(url: str, endpoint: str, data: list) -> object:
    """One call through Gradio's REST API: POST /gradio_api/call/<name>, then read its event stream."""
    name = endpoint.strip("/")
    req = urllib.request.Request(f"{url}gradio_api/call/{name}", data=json.dumps({"data": data}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        event_id = json.loads(r.read())["event_id"]
    event = None
    with urllib.request.urlopen(f"{url}gradio_api/call/{name}/{event_id}", timeout=60) as r:
        for raw in r:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"server error: {line[5:].strip()[:100]}")
                return json.loads(line[5:])[0]
    raise RuntimeError("event stream ended without a result")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--endpoint", default="/search", choices=("/search", "/ask"))
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--url", default=None)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the index (a copy) during the load")
    ap.add_argument("--warmup", type=int, default=20, help="untimed requests before the measured ones")
    ap.add_argument("--client", choices=("http", "gradio_client"), default="http",
                    help="http: Gradio's REST call API with plain HTTP (POST, then read the event stream); "
                         "gradio_client: the Python client (heavier: its own threads and websockets/SSE per call)")
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
    clients = [Client(url, verbose=False) for _ in range(args.clients)] if args.client == "gradio_client" else []

    def one(i: int) -> None:
        t = time.perf_counter()
        try:
            if clients:
                r = clients[i % len(clients)].predict(QUESTIONS[i % len(QUESTIONS)], 5, "hybrid", api_name=args.endpoint)
            else:
                r = http_call(url, args.endpoint, [QUESTIONS[i % len(QUESTIONS)], 5, "hybrid"])
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
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        if args.warmup:  # one wave of untimed requests: connections, threads and first-call costs
            list(pool.map(one, range(args.warmup)))
            lat.clear()
            if errors:
                raise SystemExit(f"warm-up failed: {errors[0]}")
        t0 = time.perf_counter()
        if rebuild_thread:
            rebuild_thread.start()
        list(pool.map(one, range(args.requests)))
    wall = time.perf_counter() - t0
    if rebuild_thread:
        rebuild_thread.join()
    if proc:
        proc.terminate()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"endpoint {args.endpoint}  client {args.client}  clients {args.clients}  requests {args.requests}  "
          f"rebuild {args.rebuild}")
    print(f"throughput {args.requests / wall:.1f} req/s   p50 {pct(lat, 50) * 1000:.0f} ms   p95 {pct(lat, 95) * 1000:.0f} ms   "
          f"p99 {pct(lat, 99) * 1000:.0f} ms   errors {len(errors)}")
    for e in errors[:5]:
        print("  ", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
