# syntax=docker/dockerfile:1
# Pingan in a container: a build stage with the Rust toolchain, then a small Debian image
# holding only the binary, run as an unprivileged user. See README "Deployment".
#
#   docker build -t pingan .
#   docker run -e TELOXIDE_TOKEN=… -v pingan-data:/var/lib/pingan pingan

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The caches keep the registry and the build between image builds on one machine.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin pingan \
    && cp target/release/pingan /usr/local/bin/pingan

FROM debian:bookworm-slim
# ca-certificates: CAP feeds and a PostgreSQL with TLS are reached with the system's roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/pingan --create-home pingan
COPY --from=build /usr/local/bin/pingan /usr/local/bin/pingan
USER pingan
WORKDIR /var/lib/pingan
# Without DATABASE_URL the data lives in /var/lib/pingan/pingan.db: mount a volume there.
VOLUME ["/var/lib/pingan"]
# The webhook, /healthz, /metrics and the admin API share this listener; publish only what
# the proxy needs (README "Deployment": the webhook path).
ENV PINGAN_HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["pingan", "healthcheck"]
ENTRYPOINT ["pingan"]
CMD ["run"]
