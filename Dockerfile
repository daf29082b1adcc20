# syntax=docker/dockerfile:1
# briefbot: a static binary on a distroless base (CA certificates, tzdata,
# a nonroot user, no shell). Build:  docker build -t briefbot .
# Run:    docker run -e DISCORD_TOKEN -v briefbot-data:/data briefbot

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .dockerignore leaves .git out, so the version comes in as a build arg:
#   docker build --build-arg VERSION=v1.2.3 -t briefbot .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/briefbot ./cmd/bot
# The database volume's mount point, owned by the nonroot user (the final
# stage has no shell to create it).
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="briefbot" \
      org.opencontainers.image.description="Discord bot that turns news feeds into short, cited briefings" \
      org.opencontainers.image.source="https://github.com/briefbot/briefbot" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/briefbot /usr/local/bin/briefbot
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV BRIEFBOT_DATABASE=/data/briefbot.db \
    BRIEFBOT_HTTP_ADDR=:9090
VOLUME ["/data"]
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/briefbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/briefbot"]
CMD ["run"]
