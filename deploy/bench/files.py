"""Files benchmark against the running system, through the gateway over HTTP.

    deploy/eoffice bench files [--files 40] [--moves 10] [--clients 8] [--alone 40] [--pause 0.2] [--notes 1]

Up to five dealing hands of GAD's establishment section (those reporting to its section
officer) each open files; every file then
goes back and forth `--moves` times between its dealing hand and the section officer, each
send by whoever holds it, on `--clients` HTTP clients at once. Reported: files opened, green
notes written (each also a locked record in MinIO) and file movements, per second, with p50
and p99 latency; before the load, `--alone` movements one at a time, `--pause` seconds apart,
so that each finds the box idle (the issue's "one movement unloaded"). `--notes` green notes
are written on each file before it moves, each a paragraph in Hindi and English as an office
writes them (a file's notesheet grows over its life: the cost of a movement must not grow with
it). It adds files under subject head "BENCH" of GAD-EST.
"""
from __future__ import annotations

import argparse
import time

from common import TABLE, SteadyWindow, box_limits, call, client, heading, percentile, row, sign_in, timed_run

from services.directory.demo import rows as demo

OFFICER = "SO(EST)-GAD"
HELD = {p["post_code"] for p in demo("postings") if not p["end_date"]}
NOTE_TEXT = (
    "प्रस्तुत पत्र में जिलाधिकारी द्वारा वर्ष 2026-27 के लिए ग्रामीण सड़कों की मरम्मत हेतु अतिरिक्त बजट की मांग की गई है। "
    "पूर्व में स्वीकृत धनराशि का उपयोगिता प्रमाण पत्र संलग्न है। वित्त विभाग के शासनादेश दिनांक 12.04.2026 के अनुसार "
    "ऐसे प्रस्ताव पर प्रशासकीय विभाग की सहमति आवश्यक है। The proposal has been examined with reference to the "
    "Financial Handbook, Volume V, paragraph 48, and the utilisation certificate of the previous instalment is in "
    "order. The estimates have been vetted by the Executive Engineer. Submitted for approval of the additional "
    "allocation, subject to concurrence of the Finance Department, as per the draft placed below for kind orders."
)
DEALERS = [p["code"] for p in demo("posts") if p["supervisor_code"] == OFFICER and p["code"] in HELD][:5]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--notes", type=int, default=1, help="green notes on each file before it moves")
    parser.add_argument("--alone", type=int, default=40, help="movements made one at a time first")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between those")
    args = parser.parse_args()

    with client() as api:
        call(api, "POST", "/api/v1/offices/GAD-EST/subject-heads", headers=sign_in(api, "EOADM-GAD"), expect=201,
             json={"code": "BENCH", "title": "Benchmark files"})
        headers = {post: sign_in(api, post) for post in [*DEALERS, OFFICER]}
        dealer_of = [DEALERS[n % len(DEALERS)] for n in range(args.files)]
        made: list[str] = [""] * args.files

        def open_one(n: int):
            made[n] = call(api, "POST", "/api/v1/files", headers=headers[dealer_of[n]], expect=201, json={
                "subject_head": "BENCH", "subject": f"[bench] file {n}"})["id"]
        rows = [row("open a file", args.files, timed_run(args.files, args.clients, open_one))]

        def note(k: int):
            seq, n = divmod(k, args.files)  # the files' first notes, then their second ...
            call(api, "POST", f"/api/v1/files/{made[n]}/notes", headers=headers[dealer_of[n]], expect=201,
                 json={"body": f"Note {seq + 1} on file {n}: {NOTE_TEXT}", "green": True})
        notes = args.files * args.notes
        if notes:
            rows.append(row("write a green note", notes, timed_run(notes, args.clients, note)))

        # One movement with nothing else running, before the load below: each after a pause in
        # which the consequences of the one before (search's re-indexing, notify's notice) have
        # finished. An even number, so that file 0 is back with its dealing hand for the load.
        here, there = dealer_of[0], OFFICER
        alone: list[float] = []
        for _ in range(args.alone // 2 * 2):
            time.sleep(args.pause)
            start = time.perf_counter()
            call(api, "POST", f"/api/v1/files/{made[0]}/send", headers=headers[here], json={"to_post": there})
            alone.append(time.perf_counter() - start)
            here, there = there, here

        # Each worker takes one file through all its moves, so a file's sends never race.
        latencies: list[float] = []
        window = SteadyWindow()  # the system's CPU a movement, inside the run

        def shuttle(n: int):
            here, there = dealer_of[n], OFFICER
            for _ in range(args.moves):
                # here and there change each move: bind this move's pair
                wall, [latency] = timed_run(1, 1, lambda _, here=here, there=there: call(
                    api, "POST", f"/api/v1/files/{made[n]}/send", headers=headers[here], json={"to_post": there}))
                latencies.append(latency)
                window.done()
                here, there = there, here
        if args.moves:
            window.start()
            wall, _ = timed_run(args.files, args.clients, shuttle)
            window.stop()
            rows.append(row("send a file (a movement)", args.files * args.moves, (wall, latencies)))
            rows += window.rows("a movement at saturation")
        if alone:
            rows.append(f"| one movement alone, {args.pause:g} s apart (before the load) | {len(alone)} | | "
                        f"{percentile(alone, 50) * 1000:.1f} ms | {percentile(alone, 99) * 1000:.1f} ms |")

        rows += box_limits(args.clients)  # the same run's limits, to read the figures against
        print(heading(f"files benchmark, {args.files} files x {args.moves} moves", args.clients), TABLE, *rows,
              "", window.by_process("a movement"), sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
