"""A tesseract kept loaded, reading page after page for the OCR worker (services.dak.ocr).

Started by the worker as a process of its own, one for each tesseract it runs at once:
`python ocr_engine.py LANGUAGES`. Starting the tesseract command for every page cost 0.1-0.2 s of
CPU a page (loading `hin+eng`, whose ambiguity tables are built by sorted insertion into linked
lists, and a fresh heap), a fifth of a 200-dpi A4 page; this process pays it once. It reads
exactly as `tesseract IMAGE stdout -l LANGUAGES` does (the same library calls, page
segmentation automatic as the command sets it; the texts compared equal byte for byte), with
one thread (the worker sets OMP_THREAD_LIMIT=1).

One JSON object a line each way. It first answers {"ok": true} when loaded, or {"ok": false,
"error": what tesseract said}, and ends. Then, for each request {"image": PATH, "out": BASE}
(PATH an image, or a text file listing images one a line, as the command takes), it writes the
text to BASE.txt (pages separated by form feeds) and tesseract's messages to BASE.log, and
answers {"ok": true} or {"ok": false}. It ends when its input closes (the worker went away).

Only the standard library and libtesseract: it runs without the project's imports.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile

PSM_AUTO = 3  # the tesseract command's page segmentation; the library's own default is one block
LIBRARY = "libtesseract.so.5"


def load(languages: str):
    """Returns the library and a TessBaseAPI loaded with `languages`, or raises OSError with
    what tesseract said."""
    lib = ctypes.CDLL(LIBRARY)
    lib.TessBaseAPICreate.restype = ctypes.c_void_p
    lib.TessBaseAPIInit3.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.TessBaseAPISetPageSegMode.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.TessTextRendererCreate.restype = ctypes.c_void_p
    lib.TessTextRendererCreate.argtypes = [ctypes.c_char_p]
    lib.TessBaseAPIProcessPages.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_void_p,
    ]
    lib.TessDeleteResultRenderer.argtypes = [ctypes.c_void_p]
    api = lib.TessBaseAPICreate()
    with tempfile.TemporaryFile() as said:
        os.dup2(said.fileno(), 2)
        failed = lib.TessBaseAPIInit3(api, None, languages.encode()) != 0
        said.seek(0)
        if failed:
            raise OSError(said.read().decode("utf-8", "replace").strip() or f"cannot load {languages}")
    lib.TessBaseAPISetPageSegMode(api, PSM_AUTO)
    return lib, api


def main(languages: str) -> int:
    # Answers go to the original stdout; anything the library prints goes with its messages.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    def answer(**fields) -> None:
        answers.write(json.dumps(fields) + "\n")
        answers.flush()

    try:
        lib, api = load(languages)
    except OSError as e:
        answer(ok=False, error=str(e))
        return 1
    answer(ok=True)
    for line in sys.stdin:
        request = json.loads(line)
        log = os.open(request["out"] + ".log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 2)
        os.dup2(log, 1)
        os.close(log)
        renderer = lib.TessTextRendererCreate(request["out"].encode())
        try:
            ok = bool(lib.TessBaseAPIProcessPages(api, request["image"].encode(), None, 0, renderer))
        finally:
            lib.TessDeleteResultRenderer(renderer)  # closes BASE.txt
        answer(ok=ok)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
