/**
 * Progress on stderr: a redrawn bar with rate and ETA on a terminal; plain lines every 10% (at most one
 * per 5 s) when stderr is a file or pipe; nothing with --quiet.
 */
export interface ProgressBar {
  update(label: string, done: number, total: number): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, mode: 'auto' | 'quiet' = 'auto'): ProgressBar {
  const tty = stream.isTTY === true;
  const started = new Map<string, number>();
  let lastDraw = 0;
  let lastStep = -1;
  let drawn = false;
  return {
    update(label, done, total) {
      if (mode === 'quiet' || total === 0) return;
      const now = performance.now();
      if (!started.has(label)) {
        started.set(label, now);
        lastStep = -1;
      }
      // The clock of a stage starts at its first report, so a stage done in one batch has no rate to show.
      const elapsed = (now - started.get(label)!) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : 0;
      const stats = rate > 0 ? `${done}/${total} ${rate.toFixed(1)}/s eta ${eta.toFixed(0)}s` : `${done}/${total}`;
      if (!tty) {
        const step = Math.floor((10 * done) / total);
        if (step === lastStep || (done < total && now - lastDraw < 5000)) return;
        lastStep = step;
        lastDraw = now;
        stream.write(`${label}: ${stats}\n`);
        return;
      }
      if (done < total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const line = `${label.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`;
      stream.write(`\r${line.padEnd(stream.columns ? Math.min(stream.columns - 1, 100) : 80)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
