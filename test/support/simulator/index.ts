/**
 * A stack-level deployment simulator: deploys synthesized CDK cloud assemblies the way
 * CloudFormation does (./stack), custom resources served by the shipped handler bundles taken from
 * the assembly (./provider), AWS behind them moto and the in-repo fakes (./world), native
 * resources modelled minimally (./native). After every resource operation it checks that every
 * consumer points at a certificate that exists and is not revoked (`world.violations`; a no-op
 * stub's step cannot change the answer, so it is skipped).
 *
 * The clock: handlers read `new Date()` / `Date.now()`. {@link Simulator.advanceClock} fakes only
 * `Date` (jest's modern fake timers with every timer API in `doNotFake`, `advanceTimers: true` so
 * the faked clock still moves with real time and deadline loops end); timers, moto and the fake
 * servers keep real time. moto itself issues with its real clock.
 */
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { HandlerModule, ProviderFramework, shortKnobs } from './provider';
import { DeployOptions, SimStack, StackResult } from './stack';
import { SimWorld, SimWorldOptions } from './world';

export * from './world';
export { SimStack, dependencyOrder } from './stack';
export type { StackResult, DeployOptions, ResourceState } from './stack';
export { shortKnobs, MAX_RESPONSE_BYTES } from './provider';

/** Options of {@link Simulator.start}. */
export interface SimulatorOptions extends SimWorldOptions {
  /** Further knobs for each handler module loaded (after the short defaults). */
  readonly tune?: (module: HandlerModule, file: string) => void;
}

const TIMER_APIS = [
  'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
  'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval',
  'setTimeout', 'clearTimeout',
] as const;

/** The simulated world and its stacks. */
export class Simulator {
  public static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const world = await SimWorld.start(options);
    const provider = new ProviderFramework({
      tune: (module, file) => {
        shortKnobs(module);
        options.tune?.(module, file);
      },
    });
    return new Simulator(world, provider);
  }

  private readonly stacks = new Map<string, SimStack>();
  private clockOffsetMs = 0;

  private constructor(public readonly world: SimWorld, public readonly provider: ProviderFramework) {}

  /** The stack `name` in `region` (one per name and region). */
  public stack(name: string, region: string): SimStack {
    const key = `${region}/${name}`;
    let s = this.stacks.get(key);
    if (!s) {
      s = new SimStack(this.world, this.provider, name, region);
      this.stacks.set(key, s);
    }
    return s;
  }

  /** Every stack ever addressed, deleted or not. */
  public allStacks(): SimStack[] {
    return [...this.stacks.values()];
  }

  /**
   * Between tests: deletes every stack still deployed, then forgets every stack whatever the
   * outcome, drops outside consumers, and empties moto and the IAM, DMS, Lightsail and ACM fakes, so the
   * next test starts from an empty account. Returns the stacks whose delete failed.
   */
  public async reset(): Promise<string[]> {
    for (const key of [...this.world.consumers.keys()].filter((k) => k.startsWith('outside:'))) {
      this.world.removeConsumer(key);
    }
    this.resetClock();
    const failed: string[] = [];
    for (const s of this.stacks.values()) {
      if (s.template) {
        const result = await s.delete();
        if (result.status !== 'DELETE_COMPLETE') {
          failed.push(`${s.label}: ${result.reason}`);
        }
      }
    }
    this.stacks.clear();
    for (const key of [...this.world.consumers.keys()]) {
      this.world.removeConsumer(key);
    }
    this.world.iam.certificates.clear();
    this.world.iam.inUse.clear();
    this.world.dms.certificates.clear();
    this.world.lightsail?.certificates.clear();
    this.world.acm?.certificates.clear();
    this.world.acm?.inUse.clear();
    // moto's state dump, read after steps, grows with every CA ever made: start empty.
    await this.world.moto.reset();
    return failed;
  }

  /** Deploys the stack artifact `artifactId` of `assembly` (its name and region from the artifact). */
  public async deploy(assembly: CloudAssembly, stackName: string, options: DeployOptions = {}): Promise<StackResult> {
    const artifact = assembly.getStackByName(stackName);
    const region = artifact.environment.region;
    if (!region || region.startsWith('unknown')) {
      throw new Error(`${stackName} has no concrete region; give the stack an env`);
    }
    return this.stack(artifact.stackName, region).deploy(artifact, options);
  }

  /** Moves the handlers' clock (Date only) forward by `ms`. */
  public advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
    jest.useFakeTimers({ doNotFake: [...TIMER_APIS], advanceTimers: true, now: Date.now() + ms });
  }

  /** Back to the real clock. */
  public resetClock(): void {
    if (this.clockOffsetMs !== 0) {
      jest.useRealTimers();
      this.clockOffsetMs = 0;
    }
  }

  public async stop(): Promise<void> {
    this.resetClock();
    await this.world.stop();
  }
}
