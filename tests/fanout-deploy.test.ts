/**
 * The fan-out's deployment files, checked without Docker or a cluster: the Dockerfile read instruction by
 * instruction (stages, the production install, the non-root user, the CUDA build arg), the manifests read as
 * YAML (three Jobs ordered through the shared volume, the same model and prompts in warm and shards, SHARDS
 * agreeing everywhere) and both tied together (the image the manifests run is the one the README builds, the
 * pod script they call is in it). kubectl, hadolint and docker check more where they are installed; each
 * missing tool is one skip message.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { parseYamlDocuments } from './support/yaml-subset.js';

const read = (f: string) => readFileSync(path.join(packageRoot, f), 'utf8');
const MANIFEST = 'configs/k8s/indexed-job.yaml';

interface Instruction {
  line: number;
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerInstructions(src: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  src.split('\n').forEach((raw, k) => {
    const t = raw.trim();
    if (!pending && (t === '' || t.startsWith('#'))) return;
    if (pending && t.startsWith('#')) return; // a comment inside a continued instruction
    const text = t.endsWith('\\') ? t.slice(0, -1).trimEnd() : t;
    pending = pending ? { line: pending.line, text: `${pending.text} ${text}` } : { line: k + 1, text };
    if (!t.endsWith('\\')) {
      const [op, ...rest] = pending.text.split(/\s+/);
      out.push({ line: pending.line, op: op.toUpperCase(), args: rest.join(' ') });
      pending = undefined;
    }
  });
  return out;
}

/** Instructions per stage: each FROM opens one (with its `AS name`). */
function stages(ins: Instruction[]): { from: string; name?: string; body: Instruction[] }[] {
  const out: { from: string; name?: string; body: Instruction[] }[] = [];
  for (const i of ins) {
    if (i.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args)!;
      out.push({ from: m[1], name: m[2], body: [] });
    } else out.at(-1)?.body.push(i);
  }
  return out;
}

const dockerfile = dockerInstructions(read('Dockerfile'));
const [buildStage, ...later] = stages(dockerfile);
const runtime = later.at(-1)!;
type Container = { name: string; image: string; command: string[]; args: string[]; env?: { name: string; value: string }[]; volumeMounts: { name: string; mountPath: string }[] };
type Job = {
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: { completionMode?: string; completions?: number; parallelism?: number; template: { spec: { restartPolicy: string; securityContext?: Record<string, unknown>; containers: Container[]; volumes: { name: string; emptyDir?: unknown; persistentVolumeClaim?: { claimName: string } }[] } } };
};
const jobs = parseYamlDocuments(read(MANIFEST)) as Job[];
const job = (step: string) => {
  const j = jobs.find((x) => x.metadata.labels.step === step);
  expect(j, `a Job labelled step=${step}`).toBeDefined();
  return j!;
};
const container = (step: string) => job(step).spec.template.spec.containers[0];
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;

describe('Dockerfile', () => {
  it('builds dist in a build stage and installs production dependencies alone in the final stage', () => {
    expect(later.length).toBeGreaterThanOrEqual(1);
    expect(buildStage.name).toBe('build');
    const buildRuns = buildStage.body.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r)), 'the build stage needs the dev dependencies (tsc)').toBe(true);
    expect(buildRuns.some((r) => /npm run build/.test(r))).toBe(true);
    const finalRuns = runtime.body.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(finalRuns.some((r) => /\bnpm ci --omit=dev\b/.test(r))).toBe(true);
    expect(finalRuns.some((r) => /npm run build|\btsc\b/.test(r)), 'the final stage compiles nothing').toBe(false);
    expect(runtime.body.some((i) => i.op === 'COPY' && /--from=build\s+\S*\/dist\s/.test(i.args)), 'dist comes from the build stage').toBe(true);
  });

  it('runs as a non-root user, set after the last RUN', () => {
    const users = runtime.body.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!;
    expect(user.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    const lastRun = runtime.body.filter((i) => i.op === 'RUN').at(-1)!;
    expect(user.line).toBeGreaterThan(lastRun.line);
  });

  it("takes onnxruntime's CUDA variant as a build arg, skipped by default, and runs onnxruntime-node's install script only for it", () => {
    const arg = runtime.body.find((i) => i.op === 'ARG' && i.args.startsWith('ONNXRUNTIME_NODE_INSTALL'));
    expect(arg?.args).toBe('ONNXRUNTIME_NODE_INSTALL=skip');
    const install = runtime.body.find((i) => i.op === 'RUN' && i.args.includes('onnxruntime-node/script/install'))!;
    expect(install.args).toMatch(/if \[ "\$ONNXRUNTIME_NODE_INSTALL" != skip \]; then ONNXRUNTIME_NODE_INSTALL="\$ONNXRUNTIME_NODE_INSTALL" node node_modules\/onnxruntime-node\/script\/install; fi/);
    // npm's own run of the script is off (it would download CUDA libraries whatever the arg says): allowScripts says the same
    for (const s of [buildStage, runtime]) for (const r of s.body.filter((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))) expect(r.args).toMatch(/npm ci[^&]*--ignore-scripts/);
    expect((JSON.parse(read('package.json')) as { allowScripts: Record<string, boolean> }).allowScripts['onnxruntime-node']).toBe(false);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
    const sources = dockerfile.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) {
      expect(() => statSync(path.join(packageRoot, s)), s).not.toThrow();
      const top = s.split('/')[0];
      expect(ignored.filter((g) => g === top || g === s), `${s} is excluded by .dockerignore`).toEqual([]);
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'results']));
  });

  const hadolint = spawnSync('hadolint', ['--version']).status === 0;
  it.skipIf(!hadolint)('hadolint finds no error', () => {
    const r = spawnSync('hadolint', ['--failure-threshold', 'error', path.join(packageRoot, 'Dockerfile')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
  if (!hadolint) console.warn('Dockerfile lint SKIPPED: hadolint is not installed (the structure checks above still ran)');

  const docker = spawnSync('docker', ['info'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!docker)("docker build --check finds no problem in the Dockerfile", () => {
    const r = spawnSync('docker', ['build', '--check', packageRoot], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);
  if (!docker) console.warn('docker build --check SKIPPED: no reachable Docker daemon (`docker info` fails)');
});

describe(`${MANIFEST}`, () => {
  it('holds three Jobs: warm, an Indexed shard Job, merge', () => {
    expect(jobs.map((j) => [j.kind, j.metadata.name, j.metadata.labels.step])).toEqual([
      ['Job', 'clip-bench-warm', 'warm'],
      ['Job', 'clip-bench-shards', 'shards'],
      ['Job', 'clip-bench-merge', 'merge'],
    ]);
    const shards = job('shards').spec;
    expect(shards.completionMode).toBe('Indexed');
    expect(shards.parallelism).toBe(shards.completions);
  });

  it('each Job runs its step of scripts/k8s/pod.sh, and SHARDS is the shard count in the shard and merge Jobs', () => {
    expect(container('warm').command).toEqual(['/app/scripts/k8s/pod.sh', 'warm']);
    expect(container('shards').command).toEqual(['/app/scripts/k8s/pod.sh', 'shard']);
    expect(container('merge').args.join(' ')).toMatch(/^\/app\/scripts\/k8s\/pod\.sh merge && /);
    const n = String(job('shards').spec.completions);
    expect(envOf(container('shards'), 'SHARDS')).toBe(n);
    expect(envOf(container('merge'), 'SHARDS')).toBe(n);
  });

  it('warm and shards name the same model, dataset, root and prompt flags (the cache is keyed by model and exact prompt text)', () => {
    const flags = (args: string[]) => {
      const m = new Map<string, string>();
      for (let i = 0; i < args.length; i += 2) m.set(args[i], args[i + 1]);
      return m;
    };
    const warm = flags(container('warm').args);
    const shard = flags(container('shards').args);
    expect(warm.get('--model')).toBeDefined();
    for (const f of ['--model', '--dataset', '--root', '--split', '--prompts', '--language', '--variant', '--tokenizer']) expect(shard.get(f), f).toBe(warm.get(f));
    for (const f of ['--db', '--shard']) expect(shard.has(f), `${f} is pod.sh's to set`).toBe(false);
  });

  it('every pod writes SQLite on its own emptyDir at /scratch, reads the shared claim at /data, restarts on failure, not as root', () => {
    for (const step of ['warm', 'shards', 'merge']) {
      const pod = job(step).spec.template.spec;
      expect(pod.restartPolicy).toBe('OnFailure');
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m) => [m.mountPath, m.name]));
      const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
      expect(volumes[mounts['/scratch']].emptyDir).toBeDefined();
      expect(volumes[mounts['/data']].persistentVolumeClaim?.claimName).toBe('clip-bench-data');
    }
  });

  it('runs the image the Dockerfile and the README build, which holds the pod script as an executable', () => {
    const tag = /docker build -t (\S+) \.(\s|$)/m.exec(read('Dockerfile'))![1];
    expect(read('README.md').includes(`docker build -t ${tag} .`), `the README shows \`docker build -t ${tag} .\``).toBe(true);
    for (const j of jobs) for (const c of j.spec.template.spec.containers) expect(c.image, `${j.metadata.name}/${c.name}`).toBe(tag);
    expect(runtime.body.filter((i) => i.op === 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(runtime.body.some((i) => i.op === 'COPY' && i.args === 'scripts/k8s ./scripts/k8s')).toBe(true);
    expect(statSync(path.join(packageRoot, 'scripts/k8s/pod.sh')).mode & 0o111).not.toBe(0);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)('kubectl apply --dry-run=client --validate=false accepts it (offline: kubectl parses every document)', () => {
    const file = path.join(packageRoot, MANIFEST);
    const names = ['job.batch/clip-bench-warm', 'job.batch/clip-bench-shards', 'job.batch/clip-bench-merge'];
    const r = spawnSync('kubectl', ['apply', '--dry-run=client', '--validate=false', '-f', file, '-o', 'name'], { encoding: 'utf8' });
    if (r.status === 0) {
      expect(r.stdout.trim().split('\n')).toEqual(names);
      return;
    }
    // apply maps kinds through the API server even in a client dry run: without a cluster it cannot start
    expect(r.stderr, 'kubectl apply failed for another reason than a missing cluster').toMatch(/unable to recognize .*(connection refused|no such host|dial tcp|the server)/);
    console.warn('kubectl apply --dry-run=client: no cluster reachable; checked with `kubectl label --local` instead (kubectl parses every document)');
    const local = spawnSync('kubectl', ['label', '--local', '-f', file, 'checked=yes', '-o', 'name'], { encoding: 'utf8' });
    expect(local.status, local.stderr).toBe(0);
    expect(local.stdout.trim().split('\n')).toEqual(names);
  }, 60_000);
  if (!kubectl) console.warn("kubectl manifest check SKIPPED: kubectl is not installed (Debian's kubernetes-client has it)");
});
