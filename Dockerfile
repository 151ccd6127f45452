# clip-bench as the image configs/k8s/indexed-job.yaml runs (`image: clip-bench:latest`):
#
#   docker build -t clip-bench:latest .                                      # CPU provider
#   docker build -t clip-bench:cuda --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 \
#     --build-arg RUNTIME_IMAGE=YOUR-NODE20-CUDA12-CUDNN9-IMAGE .            # --provider cuda
#
# Two stages: `build` compiles TypeScript to dist/ with the dev dependencies; the runtime stage installs the
# production dependencies alone (`npm ci --omit=dev`) and runs as the unprivileged `node` user.
# onnxruntime-node's install script downloads its CUDA provider from nuget.org; package.json's allowScripts
# denies it (and npm before 11 does not read allowScripts), so scripts are skipped here and the two that
# matter are run explicitly: better-sqlite3's native build, and onnxruntime's CUDA download only when
# ONNXRUNTIME_NODE_INSTALL=cuda12 (the CUDA provider also needs CUDA 12 and cuDNN 9 in RUNTIME_IMAGE).
ARG BUILD_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM ${RUNTIME_IMAGE} AS runtime
# skip: the CPU provider that ships inside onnxruntime-node; cuda12: also download the CUDA 12 provider
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && npm ci --omit=dev --ignore-scripts \
  && npm rebuild better-sqlite3 \
  && if [ "$ONNXRUNTIME_NODE_INSTALL" != skip ]; then ONNXRUNTIME_NODE_INSTALL="$ONNXRUNTIME_NODE_INSTALL" node node_modules/onnxruntime-node/script/install; fi \
  && npm cache clean --force \
  && apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist ./dist
COPY configs ./configs
# read at run time (the ONNX schema `inspect` and `cost` parse graphs with)
COPY src/models/onnx/onnx.proto ./src/models/onnx/onnx.proto
COPY scripts/k8s ./scripts/k8s
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/clip-bench && mkdir -p /scratch && chown node:node /scratch
USER node
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
