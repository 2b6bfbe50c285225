# Every Python model's image, and calibrate's. MODEL names the model's folder here; PACKAGES its
# own Debian packages (a framework, gevent), if any; PORTS what it serves (HTTP-only frameworks:
# 8000). docker-compose.yml passes them per service. The python3 layer comes first and is the
# same for all, so it is built once and shared.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
ARG PACKAGES=""
RUN if [ -n "$PACKAGES" ]; then apt-get update && apt-get install -y --no-install-recommends $PACKAGES && rm -rf /var/lib/apt/lists/* /var/cache/apt/*; fi
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY fiblab /app/fiblab
ARG MODEL
# model.json comes along: the knobs' defaults are read from it at start (fiblab.config).
COPY ${MODEL}/ /app/
ENV PYTHONPATH=/app PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001
ARG PORTS="8000 25000"
EXPOSE ${PORTS}
CMD ["python3", "/app/server.py"]
