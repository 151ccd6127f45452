/**
 * A run's owner killed with its parent stays a zombie where nothing reaps orphans (a container without an
 * init): its pid still answers a signal, but it must count as gone, so that the restarted pod resumes the
 * run instead of waiting on it (tests/faults/fanout.test.ts kills pods that way).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { isZombie, ownerAlive } from '../src/store/runs.js';

describe.skipIf(!existsSync('/proc/self/stat'))('owners that exited but were not reaped', () => {
  it('a zombie pid is not a live owner; a live one is', async () => {
    // sh starts a short sleep, then becomes a long sleep that never waits for it: the short one turns zombie
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      const owner = (p: number) => ({ host: os.hostname(), pid: p, token: 't', since: new Date().toISOString() });
      expect(ownerAlive(owner(pid))).toBe(true); // still sleeping
      await new Promise((r) => setTimeout(r, 600));
      expect(() => process.kill(pid, 0)).not.toThrow(); // the pid answers …
      expect(isZombie(pid)).toBe(true); // … but the process has exited
      expect(ownerAlive(owner(pid))).toBe(false);
      expect(isZombie(parent.pid!)).toBe(false);
      expect(ownerAlive(owner(parent.pid!))).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
