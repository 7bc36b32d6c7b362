# Ping Bias Explorer: the Streamlit app on a slim Python 3.11 image.
#   docker build -t ping-bias-explorer .
#   docker run -p 8501:8501 -v pbe-data:/data ping-bias-explorer
FROM python:3.11-slim

# NUMPY_MADVISE_HUGEPAGE=0: numpy asks for no transparent huge pages, as the command
# line does (explorer/cli/process.py). On a virtual machine that returns free memory to
# its host, each fresh 2 MB page cost a host fault (figures: docs/performance.md).
# MALLOC_ARENA_MAX=2: Streamlit runs each session's script on a thread of its own, and
# glibc gave each such thread a memory arena that kept what its analysis freed
# (docs/performance.md, "The app's memory after repeated uploads").
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NUMPY_MADVISE_HUGEPAGE=0 \
    MALLOC_ARENA_MAX=2 \
    PBE_DATA_DIR=/data \
    PBE_SAMPLE_PATH=/app/data/samples/pings.csv

# The app runs as an unprivileged user; /data is created and owned by it before the
# VOLUME line so a fresh named volume inherits that ownership.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir -p /data \
    && chown app:app /data

WORKDIR /app

# Dependencies come from pyproject.toml; the sources are copied first because
# `pip install .` builds the project itself (explorer and app packages). The installed
# `app` package lives in site-packages, so the bundled sample is named by PBE_SAMPLE_PATH.
COPY pyproject.toml README.md ./
COPY explorer ./explorer
COPY app ./app
COPY data ./data
# Server settings (upload limit, XSRF on) are read from ./.streamlit in the working directory.
COPY .streamlit ./.streamlit
RUN pip install . \
    && chown -R app:app /app

USER app

# Uploaded datasets live here (ids are 128-bit tokens; retention: PBE_RETENTION_DAYS).
VOLUME ["/data"]

EXPOSE 8501

# The slim image has no curl: ask Streamlit's health endpoint with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"]

# XSRF protection stays on (Streamlit's default); the upload widget works with it.
CMD ["streamlit", "run", "app/streamlit_app.py", \
     "--server.headless", "true", \
     "--server.port", "8501", \
     "--server.address", "0.0.0.0", \
     "--browser.gatherUsageStats", "false"]
