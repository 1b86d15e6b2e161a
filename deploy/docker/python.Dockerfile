# One image for every Python container in docker-compose.yml: the nameko
# services, the gateway and the one-shot migration differ only in command.

# Dependencies are installed in a throw-away stage so that anything in
# requirements.lock without a wheel for this platform (psycopg2 from source,
# python-pkcs11, ...) can compile, without leaving a compiler in the image.
# A virtualenv is copied across rather than wheels so that no wheel layer is
# left behind and no BuildKit-only feature is needed (docker-compose 1.29
# builds with the classic builder by default).
FROM python:3.11-slim-bookworm AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpq-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# --no-deps: the lock already lists every transitive dependency, pinned.
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      --no-deps -r /tmp/requirements.lock

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# tesseract (Hindi and English) for OCR of scanned dak; poppler-utils for
# pdftoppm and pdfsig; libpq5 for a psycopg2 built from source.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-hin tesseract-ocr-eng poppler-utils libpq5 \
 && rm -rf /var/lib/apt/lists/*
# Same base image and path in both stages, so the venv works unchanged.
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
# Code stays owned by root, so the service user cannot modify it.
COPY eoffice/ eoffice/
COPY services/ services/
COPY deploy/ deploy/
ENV PYTHONPATH=/app

RUN useradd --system --create-home --uid 10001 --shell /usr/sbin/nologin eoffice
USER eoffice
