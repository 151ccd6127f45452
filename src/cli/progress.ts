/** A progress bar on stderr when it is a terminal; silent otherwise (logs and pipes stay clean). */
export interface ProgressBar {
  update(label: string, done: number, total: number): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true): ProgressBar {
  const started = new Map<string, number>();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(label, done, total) {
      if (!enabled) return;
      const now = performance.now();
      if (!started.has(label)) started.set(label, now);
      if (done < total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const frac = total ? done / total : 1;
      const filled = Math.round(frac * width);
      const elapsed = (now - started.get(label)!) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : 0;
      const line = `${label.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(1)}/s eta ${eta.toFixed(0)}s`;
      stream.write(`\r${line.padEnd(stream.columns ? Math.min(stream.columns - 1, 100) : 80)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
