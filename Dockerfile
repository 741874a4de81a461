# Builds the server in release mode and runs it as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin testit

FROM debian:bookworm-slim
# python3-venv: the Python grading runtime is built on first start (componentize-py from PyPI)
# and kept in the data volume, so later starts load it in milliseconds.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/testit --create-home testit
COPY --from=build /src/target/release/testit /usr/local/bin/testit
USER testit
WORKDIR /var/lib/testit
ENV TESTIT_BIND=0.0.0.0:8000 \
    TESTIT_DATA_DIR=/var/lib/testit
EXPOSE 8000
CMD ["testit"]
