"""Dak benchmark against the running system, through the gateway over HTTP.

    deploy/eoffice bench dak [--receipts 400] [--clients 8] [--scans 40]

1. Diarisation: `--receipts` paper letters diarised by every dak clerk of the Lucknow dak
   section at once (`--clients` HTTP clients): receipts per second and latency percentiles.
2. OCR: `--scans` one-page scanned letters (A5 at 300 dpi, Hindi and English alternately)
   diarised together; pages read per minute by the OCR worker, from the first upload to the
   last text stored.
3. Diarisation of `--scanned` scanned letters (a one-page PNG each), the upload checked and
   stored in MinIO on the way, as in 1.

It adds receipts to the demo organisation's office (LKO-DAK); their subjects start with
"[bench]". Figures go to stdout as a Markdown table, for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.support import scans as fixtures  # noqa: E402  (the same fixture letters the tests use)
from tests.support.demo import PASSWORD, demo, holder_email  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the figures
GATEWAY = "http://" + os.environ.get("EOFFICE_GATEWAY_BIND", "127.0.0.1:8080")


def clerks(client: httpx.Client) -> list[dict]:
    posts = [p["code"] for p in demo("posts") if "dak_clerk" in p["roles"] and p["office_code"] == "LKO-DAK"]
    headers = []
    for post in posts:
        answer = client.post("/api/v1/auth/sign-in", json={"email": holder_email(post), "password": PASSWORD,
                                                           "post_code": post})
        answer.raise_for_status()
        headers.append({"Authorization": f"Bearer {answer.json()['access_token']}"})
    return headers


def letter(n: int) -> dict:
    return {"subject": f"[bench] आवेदन {n}", "sender_name": "रामलाल", "received_date": date.today().isoformat(),
            "mode": "post"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_run(count: int, clients: int, call) -> tuple[float, list[float]]:
    """Runs call(n) for n in range(count) on `clients` threads; returns wall time and latencies."""
    latencies: list[float] = []

    def one(n: int):
        start = time.perf_counter()
        call(n)
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - start, latencies


def row(name: str, count: int, wall: float, latencies: list[float]) -> str:
    return (f"| {name} | {count} | {count / wall:.1f}/s | {percentile(latencies, 50) * 1000:.0f} ms "
            f"| {percentile(latencies, 99) * 1000:.0f} ms |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--scans", type=int, default=40, help="pages for the OCR figure")
    parser.add_argument("--scanned", type=int, default=100, help="scanned letters for the diarisation figure")
    args = parser.parse_args()

    with httpx.Client(base_url=GATEWAY, timeout=120) as client:
        who = clerks(client)

        def post(n: int, **kwargs) -> dict:
            answer = client.post(kwargs.pop("path", "/api/v1/receipts"), headers={
                **who[n % len(who)], "Idempotency-Key": uuid.uuid4().hex}, **kwargs)
            if answer.status_code != 201:
                raise SystemExit(f"diarisation failed: {answer.status_code} {answer.text}")
            return answer.json()

        print(f"# dak benchmark: {platform.node()}, {os.cpu_count()} cores, {len(who)} clerks, "
              f"{args.clients} clients, gateway {GATEWAY}\n")
        paper_wall, paper = timed_run(args.receipts, args.clients, lambda n: post(n, json=letter(n)))
        rows = [row("diarise a paper letter", args.receipts, paper_wall, paper)]

        pages = [fixtures.pdf_of_images([fixtures.letter_image(lines * 4, dpi=300)])
                 for lines in (fixtures.HINDI_LETTER, fixtures.ENGLISH_LETTER)]
        start = time.perf_counter()
        made = [post(n, path="/api/v1/receipts/electronic", data={"letter": json.dumps(letter(n))},
                     files={"scans": ("page.pdf", io.BytesIO(pages[n % 2]), "application/pdf")})
                for n in range(args.scans)]
        pending = {r["id"]: who[n % len(who)] for n, r in enumerate(made)}
        failed = 0
        while pending:
            time.sleep(1)
            for receipt_id, headers in list(pending.items()):
                docs = client.get(f"/api/v1/receipts/{receipt_id}", headers=headers).json()["scans"]
                if all(d["ocr_status"] != "pending" for d in docs):
                    failed += sum(d["ocr_status"] == "failed" for d in docs)
                    del pending[receipt_id]
        elapsed = time.perf_counter() - start
        ocr = (f"OCR: {args.scans} pages (A5 at 300 dpi, Hindi and English alternately, scanned PDFs) read in "
               f"{elapsed:.0f} s: {args.scans / elapsed * 60:.1f} pages/min by one OCR worker; {failed} failed.")

        small = fixtures.as_bytes(fixtures.letter_image(fixtures.ENGLISH_LETTER), "PNG")
        scan_wall, scanned = timed_run(args.scanned, args.clients, lambda n: post(
            n, path="/api/v1/receipts/electronic", data={"letter": json.dumps(letter(n))},
            files={"scans": ("letter.png", small, "image/png")}))
        rows.append(row("diarise a scanned letter (A5 PNG, 1 page)", args.scanned, scan_wall, scanned))
        print("| what | count | throughput | p50 | p99 |\n|---|---|---|---|---|", *rows, "", ocr, sep="\n")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
