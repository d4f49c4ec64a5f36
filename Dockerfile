# syntax=docker/dockerfile:1
# Build: a static binary (pure-Go SQLite driver, CGO_ENABLED=0).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/privilege . \
 && mkdir -p /out/data

# Run: distroless, non-root, data dir on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/privilege /usr/local/bin/privilege
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV PRIVILEGE_ADDR=:8080 \
    PRIVILEGE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/privilege", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/privilege"]
CMD ["serve"]
