# Loa — multi-stage image. Build: docker build -t loa .   Run: docker run -p 8080:8080 -p 5004:5004/udp -v loa-data:/data loa
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci builds the sendmmsg addon from native/ (its install script); without it sends go through dgram.
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# A system ffmpeg (Debian's 5.1) rather than the old static one in node_modules;
# espeak-ng is the offline Vietnamese voice of alerts (speech/).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg espeak-ng tini && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 --home /data loa && mkdir -p /data && chown loa /data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/native ./native
COPY --from=build /app/admin-ui ./admin-ui
COPY --from=build /app/i18n ./i18n
ENV NODE_ENV=production LOA_DATA_DIR=/data LOA_HOST=0.0.0.0 LOA_PORT=8080 LOA_RTP_PORT=5004 FFMPEG_PATH=/usr/bin/ffmpeg
USER loa
EXPOSE 8080 5004/udp
VOLUME /data
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/loa.js", "server"]
