"""Dak benchmark against the running system, through the gateway over HTTP.

    deploy/eoffice bench dak [--receipts 400] [--clients 8] [--scans 40]

1. Diarisation: `--receipts` paper letters diarised by every dak clerk of the Lucknow dak
   section at once (`--clients` HTTP clients): receipts per second and latency percentiles.
   Then as many by the dak clerks of every office of the demo (nine offices), in turn: one
   office's diary takes its numbers one at a time (gap-free: each diarisation holds its
   office's counter until it commits), a state's offices each their own.
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
import itertools
import json
import time
from datetime import date

from common import TABLE, SteadyWindow, box_limits, call, client, heading, row, sign_in, timed_run

from eoffice import demo as fixtures  # the same demo letters the tests use
from services.directory.demo import rows as demo


def letter(n: int) -> dict:
    return {"subject": f"[bench] आवेदन {n}", "sender_name": "रामलाल", "received_date": date.today().isoformat(),
            "mode": "post"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--scans", type=int, default=40, help="pages for the OCR figure")
    parser.add_argument("--scanned", type=int, default=100, help="scanned letters for the diarisation figure")
    args = parser.parse_args()

    with client() as api:
        held = {p["post_code"] for p in demo("postings") if not p["end_date"]}
        clerks = [p for p in demo("posts") if "dak_clerk" in p["roles"] and p["code"] in held]
        by_office: dict[str, list[dict]] = {}
        for clerk in clerks:
            by_office.setdefault(clerk["office_code"], []).append(clerk)
        # Interleaved, so that the clients' round robin goes from office to office.
        everywhere = [p for turn in itertools.zip_longest(*by_office.values()) for p in turn if p]
        who = [sign_in(api, p["code"]) for p in clerks if p["office_code"] == "LKO-DAK"]
        across = [sign_in(api, p["code"]) for p in everywhere]
        offices = len(by_office)

        def post(n: int, **kwargs) -> dict:
            signed = kwargs.pop("signed", who)
            return call(api, "POST", kwargs.pop("path", "/api/v1/receipts"), headers=signed[n % len(signed)],
                        expect=201, **kwargs)

        print(heading(f"dak benchmark, {len(who)} clerks of one office, {len(across)} of {offices}", args.clients))
        window = SteadyWindow(after=2.0, seconds=8.0)
        window.start()
        paper = timed_run(args.receipts, args.clients, lambda n: (post(n, json=letter(n)), window.done()))
        window.stop()
        rows = [row("diarise a paper letter (one office)", args.receipts, paper),
                *window.rows("a paper diarisation at saturation (one office)")]
        spread = timed_run(args.receipts, args.clients, lambda n: post(n, json=letter(n), signed=across))
        rows.append(row(f"diarise a paper letter ({offices} offices)", args.receipts, spread))

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
                docs = api.get(f"/api/v1/receipts/{receipt_id}", headers=headers).json()["scans"]
                if all(d["ocr_status"] != "pending" for d in docs):
                    failed += sum(d["ocr_status"] == "failed" for d in docs)
                    del pending[receipt_id]
        elapsed = time.perf_counter() - start
        ocr = (f"OCR: {args.scans} pages (A5 at 300 dpi, Hindi and English alternately, scanned PDFs) read in "
               f"{elapsed:.0f} s: {args.scans / elapsed * 60:.1f} pages/min by one OCR worker; {failed} failed.")

        small = fixtures.as_bytes(fixtures.letter_image(fixtures.ENGLISH_LETTER), "PNG")
        scanned = timed_run(args.scanned, args.clients, lambda n: post(
            n, path="/api/v1/receipts/electronic", data={"letter": json.dumps(letter(n))},
            files={"scans": ("letter.png", small, "image/png")}))
        rows.append(row("diarise a scanned letter (A5 PNG, 1 page)", args.scanned, scanned))
        rows += box_limits(args.clients)  # the same run's limits, to read the figures against
        print(TABLE, *rows, "", window.by_process("a paper diarisation (one office)"), "", ocr, sep="\n")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
