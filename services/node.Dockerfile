# Every Node model's image (Node 20 from Debian, no npm packages). MODEL names the model's folder
# here; docker-compose.yml passes it per service.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY node-common/package.json node-common/fibservice.js node-common/health.js /app/
ARG MODEL
# model.json comes along: the knobs' defaults are read from it at start (fibservice.js).
COPY ${MODEL}/ /app/
WORKDIR /app
USER 10001
EXPOSE 8000 25000
CMD ["node", "/app/server.js"]
