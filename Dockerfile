# Production image: frontend built at image build time; migrations then the app at start.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=false \
    PATH=/app/toolchain/node_modules/.bin:/app/.venv/bin:$PATH PORT=3000
# bubblewrap (and Debian's python3, the interpreter scripts see inside it) for the script sandbox;
# the container needs user namespaces allowed by its seccomp profile, or scripts are not offered.
RUN apt-get update && apt-get install -y --no-install-recommends npm make bubblewrap python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-dev.txt Makefile ./
COPY toolchain/package.json toolchain/package-lock.json toolchain/
RUN make setup
COPY . .
# Build the production frontend now, so containers start fast.
RUN reflex export --frontend-only --no-zip --env prod
EXPOSE 3000
CMD ["sh", "-c", "python -m vopix migrate && reflex run --env prod --single-port"]
