/**
 * What the simulator scenarios share: synthesizing an app into a fresh assembly folder, and
 * readable assertions over the world's records.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { SimWorld, StackResult, StepRecord } from '../support/simulator';

export const ACCOUNT = '123456789012';

const outdirs: string[] = [];
process.once('exit', () => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Synthesizes the stacks `build` adds to a new App into a fresh folder. */
export function synth(build: (app: App) => void): CloudAssembly {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-sim-app-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  build(app);
  return app.synth();
}

/** A stack in `region` of the simulated account (`stackName`: its CloudFormation name, default `id`). */
export function stackIn(app: App, id: string, region: string, stackName?: string): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region }, stackName });
}

/** One line per step, for failure messages. */
export function describeSteps(world: SimWorld, from = 0): string {
  return world.steps.slice(from).map((s) => `#${s.seq} ${s.stack} ${s.phase} ${s.action} ${s.logicalId} ${s.physicalId ?? ''}${s.ok ? '' : ` FAILED: ${s.reason}`} (${s.ms} ms)`).join('\n');
}

/** Fails with the steps and the reason unless the result has `status`. */
export function expectStatus(world: SimWorld, result: StackResult, status: StackResult['status'], from = 0): void {
  if (result.status !== status) {
    throw new Error(`expected ${status}, got ${result.status}: ${result.reason ?? ''}\n${JSON.stringify(result.failures)}\nsteps:\n${describeSteps(world, from)}`);
  }
}

/** Fails with every violation recorded since step `from` (all when omitted). */
export function expectInvariantHeld(world: SimWorld, from = 0): void {
  const found = world.violations.filter((v) => v.afterSeq > from);
  if (found.length > 0) {
    const first = found.slice(0, 10).map((v) => `after ${v.step}: ${v.consumer} -> ${v.certificate}: ${v.problem}`).join('\n');
    throw new Error(`the invariant broke ${found.length} time(s) (first ${Math.min(10, found.length)}):\n${first}`);
  }
}

/** The successful steps of a stack (optionally one phase, action and logical ID prefix). */
export function stepsWhere(world: SimWorld, where: Partial<Pick<StepRecord, 'phase' | 'action' | 'stack'>> & { readonly logicalPrefix?: string }): StepRecord[] {
  return world.steps.filter((s) => s.ok
    && (where.phase === undefined || s.phase === where.phase)
    && (where.action === undefined || s.action === where.action)
    && (where.stack === undefined || s.stack === where.stack)
    && (where.logicalPrefix === undefined || s.logicalId.startsWith(where.logicalPrefix)));
}
