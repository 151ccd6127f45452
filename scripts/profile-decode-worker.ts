/**
 * Worker thread for `bench-profile`'s decode stage: reads and decodes its share of the files exactly as
 * the preprocessing worker does (`readImageFileSync` then `decodeImage` with the config's pixel limit and
 * EXIF setting, `transform.ts` withDecoded), two at a time as the pool hands each worker two, and throws
 * the pixels away. Only the decode-budget hold is left out: it admits a 0.5 MB image at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readImageFileSync, decodeImage } from '../src/models/preprocess/decode.js';
import type { PreprocessConfig } from '../src/models/preprocess/config.js';

/** Main thread → worker: decode these files; the worker answers with how many it decoded. */
export interface DecodeJob {
  files: string[];
}

const port = parentPort;
if (port) {
  const { cfg, perWorker } = workerData as { cfg: PreprocessConfig; perWorker: number };
  port.on('message', async ({ files }: DecodeJob) => {
    let next = 0;
    let pixels = 0;
    const lane = async () => {
      while (next < files.length) {
        const file = files[next++];
        const img = await decodeImage(readImageFileSync(file), { maxPixels: cfg.maxPixels, applyExifOrientation: cfg.applyExifOrientation, name: file });
        pixels += img.width * img.height;
      }
    };
    await Promise.all(Array.from({ length: perWorker }, lane));
    port.postMessage({ decoded: files.length, pixels });
  });
  port.postMessage({ ready: true });
}
