"""poppler's `pdfsig` as the letter tests run it, with a workaround for a bug of Debian's 22.12.

Its SignatureHandler::validateCertificate calls NSS's CERT_PKIXVerifyCert, ignores the return
value and reads PORT_GetError() instead. NSS returns SECSuccess for our chains (and for any chain:
a two-certificate PKI made with `cryptography`, a signature made by pdfsig itself) but leaves a
stale SEC_ERROR_BAD_DER (-8183) set from inside the successful path, so pdfsig prints "Unknown
issue with Certificate or corrupted data" for a chain it has just validated. Newer poppler
(NSSCryptoSignBackend.cc) reads the error only when the call failed. The shim below, preloaded
into pdfsig, does exactly that: on success it clears the error; a real failure (unknown issuer,
revoked, expired) passes through untouched. docs/signing.md, "Verifying with pdfsig"."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
typedef int SECStatus;
typedef SECStatus (*verify_fn)(void *, long, void *, void *, void *);
extern void PORT_SetError(int);
SECStatus CERT_PKIXVerifyCert(void *cert, long usages, void *in, void *out, void *wincx) {
    static verify_fn real;
    if (!real) real = (verify_fn)dlsym(RTLD_NEXT, "CERT_PKIXVerifyCert");
    SECStatus rv = real(cert, usages, in, out, wincx);
    if (rv == 0) PORT_SetError(0); /* success: no stale error for poppler 22.12 to misread */
    return rv;
}
"""


def shim(folder: Path) -> Path:
    """Compiles the shim into `folder` (gcc, -lnss3) and returns the shared object's path."""
    folder.mkdir(parents=True, exist_ok=True)
    source, library = folder / "pdfsig_pkix_fix.c", folder / "pdfsig_pkix_fix.so"
    if not library.exists():
        source.write_text(SHIM)
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-o", str(library), str(source), "-ldl", "-lnss3"],
            check=True,
            capture_output=True,
        )
    return library


def pdfsig(nss: Path, pdf: Path, *, fix: Path | None) -> str:
    """pdfsig's report (stdout and stderr) on `pdf` with the NSS database `nss` (root trusted,
    CRLs imported; OCSP off: the CRLs answer), with the shim preloaded when `fix` is given."""
    env = {**os.environ, "LD_PRELOAD": str(fix)} if fix else None
    done = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(pdf)], capture_output=True, text=True, env=env
    )
    return done.stdout + done.stderr
