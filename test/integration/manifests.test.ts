/**
 * The Kubernetes manifests (infra/k8s, docs/deploy.md), checked offline: every object against the
 * Kubernetes schemas strictly and the KEDA objects against infra/k8s/schemas (infra/validate-manifests.py,
 * installed by `bash infra/tools.sh install manifests`); the validator is shown to catch mistakes; and
 * the manifests agree with the code: the commands they run parse, the queues they scale are pure's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { buildProgram } from '../../cli/program.js';
import type { ScheduleCreateOptions } from '../../cli/schedule.js';
import { DEFAULT_QUEUE_PREFIX, taskQueues } from '../../core/compute/run/temporal-names.js';
import { projectRoot, readersPython } from '../support/paths.js';

const K8S = join(projectRoot, 'infra', 'k8s');
const VALIDATOR = join(projectRoot, 'infra', 'validate-manifests.py');

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, navigated by known paths
type Manifest = Record<string, any>;

/** Runs the validator (the tools venv's Python, where tools.sh installs kubernetes-validate). */
function validate(files: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(readersPython, [VALIDATOR, ...files], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(
          new Error(
            `${error.message}\n${stderr}\nInstall the validator: bash infra/tools.sh install manifests`,
          ),
        );
        return;
      }
      if (/ModuleNotFoundError/.test(stderr)) {
        reject(new Error(`${stderr}\nInstall the validator: bash infra/tools.sh install manifests`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout });
    });
  });
}

async function manifestFiles(): Promise<string[]> {
  return (await readdir(K8S)).filter((f) => f.endsWith('.yaml')).map((f) => join(K8S, f));
}

async function objects(file: string): Promise<Manifest[]> {
  return parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS() as Manifest);
}

async function allObjects(): Promise<Manifest[]> {
  return (await Promise.all((await manifestFiles()).map(objects))).flat();
}

const find = (all: Manifest[], kind: string, name: string) => {
  const found = all.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} in infra/k8s`);
  return found;
};

describe('Kubernetes manifests (offline validation)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pure-manifests-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('every manifest in infra/k8s is valid, core objects and KEDA objects alike', async () => {
    const files = await manifestFiles();
    const { code, stdout } = await validate(files);
    assert.equal(code, 0, stdout);
    for (const file of files) {
      for (const o of await objects(file)) {
        assert.ok(
          stdout.includes(`ok   ${file}: ${o.kind}/${o.metadata.name} (Kubernetes 1.30, 1.37)`),
          stdout,
        );
      }
    }
    const kinds = new Set((await allObjects()).map((o) => o.kind));
    for (const kind of [
      'Namespace',
      'ConfigMap',
      'Deployment',
      'Job',
      'ScaledObject',
      'TriggerAuthentication',
    ]) {
      assert.ok(kinds.has(kind), `a ${kind} was validated`);
    }
  });

  test('the validator catches a wrong type, an unknown field, a bad KEDA trigger, an unknown kind, bad YAML', async () => {
    const cpu = (await objects(join(K8S, 'worker-cpu.yaml')))[0]!;
    cpu.spec.template.spec.terminationGracePeriodSeconds = 'sixty';
    cpu.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const scaler = find(await allObjects(), 'ScaledObject', 'pure-worker-gpu');
    scaler.spec.maxReplicaCount = '8';
    scaler.spec.triggers[0].metadata.taskqueue = scaler.spec.triggers[0].metadata.taskQueue;
    delete scaler.spec.triggers[0].metadata.taskQueue;
    const typo = { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } };
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, [cpu, scaler, typo].map((o) => stringify(o)).join('---\n'));
    const unparsable = join(dir, 'unparsable.yaml');
    await writeFile(unparsable, 'kind: Deployment\nmetadata: {name: x\n');
    const { code, stdout } = await validate([broken, unparsable]);
    assert.equal(code, 1, stdout);
    const expected = [
      /Deployment\/pure-worker-cpu: spec\.template\.spec\.terminationGracePeriodSeconds: 'sixty' is not of type 'integer'/,
      /Deployment\/pure-worker-cpu: spec\.template\.spec\.containers\.0: Additional properties are not allowed \('imagePullPolicyy' was unexpected\)/,
      /ScaledObject\/pure-worker-gpu: spec\.maxReplicaCount: '8' is not of type 'integer'/,
      /ScaledObject\/pure-worker-gpu: spec\.triggers\.0\.metadata: Additional properties are not allowed \('taskqueue' was unexpected\)/,
      /Deploymnet\/x: no schema for kind Deploymnet of apiVersion apps\/v1/,
      /FAIL .*unparsable\.yaml: /,
    ];
    for (const pattern of expected) assert.match(stdout, pattern);
    assert.ok(!/^ok /m.test(stdout), stdout);
  });

  test('the workers run `pure worker` flags that exist, scrape and probe their metrics port', async () => {
    const all = await allObjects();
    const worker = buildProgram().commands.find((c) => c.name() === 'worker')!;
    const flags = new Set(worker.options.map((o) => o.long));
    for (const name of ['pure-worker-cpu', 'pure-worker-gpu']) {
      const pod = find(all, 'Deployment', name).spec.template;
      const container = pod.spec.containers[0];
      assert.equal(container.args[0], 'worker');
      for (const arg of container.args.filter((a: string) => a.startsWith('--'))) {
        assert.ok(flags.has(arg), `${name}: pure worker has no ${arg}`);
      }
      const port = container.args[container.args.indexOf('--metrics-port') + 1];
      assert.equal(pod.metadata.annotations['prometheus.io/port'], port);
      assert.equal(String(container.ports[0].containerPort), port);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        assert.deepEqual(container[probe].httpGet, { path: '/healthz', port: container.ports[0].name });
      }
    }
  });

  test("KEDA scales pure's task queues; the nightly Job's command parses with its sweep file", async () => {
    const all = await allObjects();
    const queues = taskQueues(DEFAULT_QUEUE_PREFIX);
    const scaled = (name: string) => find(all, 'ScaledObject', name).spec;
    assert.equal(scaled('pure-worker-gpu').triggers[0].metadata.taskQueue, queues.inference);
    assert.equal(scaled('pure-worker-cpu').triggers[0].metadata.taskQueue, queues.cpu);
    for (const name of ['pure-worker-gpu', 'pure-worker-cpu']) {
      assert.equal(
        find(all, 'Deployment', scaled(name).scaleTargetRef.name).spec.replicas,
        undefined,
        'KEDA owns replicas',
      );
    }

    const job = find(all, 'Job', 'pure-schedule-nightly').spec.template.spec.containers[0];
    const sweepFile = join(dir, 'sweep.yaml');
    await writeFile(sweepFile, find(all, 'ConfigMap', 'pure-sweep').data['sweep.yaml']);
    const args = (job.args as string[]).map((a) => (a === '/etc/pure/sweep.yaml' ? sweepFile : a));
    let created: { id: string; options: ScheduleCreateOptions } | undefined;
    const program = buildProgram({
      scheduleCreate: (id, options) => {
        created = { id, options };
      },
    });
    await program.parseAsync(args, { from: 'user' });
    assert.equal(created?.id, 'nightly');
    assert.deepEqual(created?.options.cron, ['0 2 * * *']);
    assert.equal(created?.options.model, 's3://ckpt/latest.onnx');
    assert.equal(created?.options.window, 8);
  });
});
