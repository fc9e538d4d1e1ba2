# The portal's image: web (gunicorn), Celery worker and Celery beat all run from it (see
# docker-compose.yml and docs/operations.md). Configuration comes only from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_VAR_DIR=/app/var

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin portal

WORKDIR /app

# WeasyPrint (PDF reports) lays text out with Pango and HarfBuzz from the system; DejaVu is the
# font the print stylesheet names.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them. Every package has a binary wheel
# for this platform (lxml and xmlsec included), so no compiler is needed.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The code belongs to root and is read-only for the service user; only var/ (collected static
# files, Celery beat's schedule) is writable.
COPY . .
# var/uploads: uploaded log files wait there for the worker (a volume shared by web and worker).
RUN mkdir -p /app/var/uploads && chown portal:portal /app/var /app/var/uploads

USER portal
EXPOSE 8000

# More workers, timeouts etc.: GUNICORN_CMD_ARGS="--workers 5" in the environment.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
