import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitCommit } from '../src/eval/environment.js';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim();

describe('gitCommit', () => {
  it("reads the commit of a checkout, a packed branch, a detached HEAD and a worktree as git rev-parse does", () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-git-'));
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(repo, 'a'), 'a');
    git(repo, 'add', 'a');
    git(repo, 'commit', '-q', '-m', 'one');
    expect(gitCommit(repo)).toBe(git(repo, 'rev-parse', 'HEAD'));
    git(repo, 'pack-refs', '--all');
    expect(gitCommit(repo)).toBe(git(repo, 'rev-parse', 'HEAD'));
    writeFileSync(path.join(repo, 'a'), 'b');
    git(repo, 'commit', '-q', '-am', 'two');
    const wt = path.join(repo, 'wt');
    git(repo, 'worktree', 'add', '-q', '--detach', wt, 'HEAD~1');
    expect(gitCommit(wt)).toBe(git(repo, 'rev-parse', 'HEAD~1'));
    git(wt, 'checkout', '-q', '-b', 'side');
    expect(gitCommit(wt)).toBe(git(repo, 'rev-parse', 'HEAD~1'));
    expect(gitCommit(os.tmpdir())).toBeNull();
  });
});
