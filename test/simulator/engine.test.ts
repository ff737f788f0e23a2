/**
 * The simulator's own CloudFormation semantics, on hand-written templates and a tiny recording
 * handler (an asset of a hand-made assembly folder, served through the same Provider-framework
 * emulation as the shipped bundles): dependency order, intrinsics and pseudo parameters,
 * stringified properties, Update only on changed resolved properties, replacement and cleanup,
 * rollback (revert without a call, Update with the old properties, rollback cleanup),
 * UPDATE_ROLLBACK_FAILED, reverse-order delete with Retain and DELETE_FAILED, and the 4096-byte
 * response limit.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Simulator } from '../support/simulator';

const REGION = 'eu-central-1';
let sim: Simulator;
let dir: string;

/** The handler: records every event; its behaviour is steered by properties and `settings`. */
const HANDLER = `
const settings = { failUpdatesOf: [], failDeletesOf: [] };
const events = [];
exports.settings = settings;
exports.events = events;
exports.onEvent = async (event) => {
  events.push(event);
  const p = event.ResourceProperties;
  if (event.RequestType !== 'Create' && settings['fail' + event.RequestType + 'sOf'].includes(event.LogicalResourceId)) {
    throw new Error(event.LogicalResourceId + ' refuses ' + event.RequestType);
  }
  if (event.RequestType === 'Delete') {
    return {};
  }
  return {
    PhysicalResourceId: p.Version === undefined ? undefined : event.LogicalResourceId + '-v' + p.Version,
    Data: { Value: 'value-of-' + (p.Value ?? ''), ...(p.BigData ? { Big: 'x'.repeat(Number(p.BigData)) } : {}) },
  };
};
`;

const fn = (assetHash: string, env?: Record<string, unknown>) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Code: { S3Bucket: 'bucket', S3Key: `${assetHash}.zip` }, Handler: 'index.onEvent', Runtime: 'nodejs22.x', ...(env ? { Environment: { Variables: env } } : {}) },
});

interface Props {
  readonly a?: Record<string, unknown>;
  readonly b?: Record<string, unknown>;
  readonly c?: Record<string, unknown>;
  readonly withC?: boolean;
  readonly cRetain?: boolean;
}

function template(p: Props = {}) {
  const token = { 'Fn::GetAtt': ['Framework', 'Arn'] };
  return {
    Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' }, Env: { Type: 'String', Default: 'prod' } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
    Resources: {
      UserFn: fn('abc123'),
      Framework: fn('framework', { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': ['UserFn', 'Arn'] } }),
      A: { Type: 'Custom::Thing', Properties: { ServiceToken: token, Value: 'a', Version: 1, Count: 3, Enabled: true, ...p.a } },
      B: {
        Type: 'Custom::Thing',
        Properties: {
          ServiceToken: token,
          Value: { 'Fn::GetAtt': ['A', 'Value'] },
          Joined: { 'Fn::Join': ['/', [{ Ref: 'A' }, { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }]] },
          Sub: { 'Fn::Sub': '${AWS::StackName}:${A.Value}:${Env}:${!Literal}' },
          SubList: { 'Fn::Sub': ['${X}-${AWS::Partition}', { X: { Ref: 'A' } }] },
          Picked: { 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y,z'] }] },
          Chosen: { 'Fn::If': ['IsProd', 'prod-value', 'other-value'] },
          Gone: { 'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, 'kept'] },
          Local: 'ignored',
          ...p.b,
        },
      },
      ...(p.withC === false ? {} : {
        C: {
          Type: 'Custom::Thing',
          DependsOn: 'B',
          Properties: { ServiceToken: token, Value: 'c', ...p.c },
          ...(p.cRetain ? { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } : {}),
        },
      }),
    },
  };
}

function artifact(t: unknown) {
  return { template: t, assembly: { directory: dir } };
}

/** The handler's container of the latest stack (a new stack is a new function, so a new container). */
function handlerModule(): { events: any[]; settings: { failUpdatesOf: string[]; failDeletesOf: string[] } } {
  const loaded = sim.provider.loadedModules().filter((m) => m.file === path.join(dir, 'asset.abc123', 'index.js'));
  return (loaded.at(-1)?.module ?? { events: [], settings: { failUpdatesOf: [], failDeletesOf: [] } }) as any;
}

const eventsSince = (n: number) => handlerModule().events.slice(n).map((e) => `${e.RequestType} ${e.LogicalResourceId}${e.PhysicalResourceId ? ` ${e.PhysicalResourceId}` : ''}`);

beforeAll(async () => {
  sim = await Simulator.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-sim-engine-'));
  fs.mkdirSync(path.join(dir, 'asset.abc123'));
  fs.writeFileSync(path.join(dir, 'asset.abc123', 'index.js'), HANDLER);
});

afterAll(async () => {
  await sim?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  const m = handlerModule();
  m.settings.failUpdatesOf = [];
  m.settings.failDeletesOf = [];
  await sim.reset();
});

test('create: dependency order, intrinsics, pseudo parameters, conditions, and properties as CloudFormation sends them', async () => {
  const stack = sim.stack('Engine', REGION);
  const result = await stack.deploy(artifact(template()));

  expect(result.status).toBe('CREATE_COMPLETE');
  expect(eventsSince(0)).toEqual(['Create A', 'Create B', 'Create C']);
  const [a, b] = handlerModule().events;
  expect(a.StackId).toMatch(new RegExp(`^arn:aws:cloudformation:${REGION}:123456789012:stack/Engine/[0-9a-f-]{36}$`));
  expect(a.ResourceProperties).toEqual({ ServiceToken: stack.resource('Framework').attributes.Arn, Value: 'a', Version: '1', Count: '3', Enabled: 'true' });
  expect(a.ResponseURL).toMatch(/^https:\/\/cloudformation-custom-resource-response-/);
  expect(b.ResourceProperties).toMatchObject({
    Value: 'value-of-a',
    Joined: `A-v1/${REGION}/123456789012`,
    Sub: 'Engine:value-of-a:prod:${Literal}',
    SubList: 'A-v1-aws',
    Picked: 'y',
    Chosen: 'prod-value',
  });
  expect(b.ResourceProperties).not.toHaveProperty('Gone');
  // Without a PhysicalResourceId, the framework answers with the RequestId.
  expect(stack.resource('C').physicalId).toBe(handlerModule().events[2].RequestId);
});

test('update: only changed resolved properties; a dependency\'s new attribute reaches its dependents; replacement deletes the old ID in cleanup', async () => {
  const stack = sim.stack('Engine', REGION);
  await stack.deploy(artifact(template()));
  const n = handlerModule().events.length;

  // Same template: nothing is sent.
  expect((await stack.deploy(artifact(template()))).status).toBe('UPDATE_COMPLETE');
  expect(eventsSince(n)).toEqual([]);

  // A changes in place; its new attribute changes B's resolved properties; C is unchanged.
  expect((await stack.deploy(artifact(template({ a: { Value: 'a2' } })))).status).toBe('UPDATE_COMPLETE');
  expect(eventsSince(n)).toEqual(['Update A A-v1', `Update B ${stack.resource('B').physicalId}`]);
  const update = handlerModule().events[n];
  expect(update.OldResourceProperties.Value).toBe('a');
  expect(update.ResourceProperties.Value).toBe('a2');

  // A new Version: A is replaced (new ID), B follows, the old A is deleted after all updates.
  const m = handlerModule().events.length;
  expect((await stack.deploy(artifact(template({ a: { Value: 'a2', Version: 2 } })))).status).toBe('UPDATE_COMPLETE');
  expect(eventsSince(m)).toEqual(['Update A A-v1', `Update B ${stack.resource('B').physicalId}`, 'Delete A A-v1']);
  expect(stack.resource('A').physicalId).toBe('A-v2');
  expect(sim.world.steps.at(-1)).toMatchObject({ phase: 'UPDATE_CLEANUP', action: 'Delete', logicalId: 'A', physicalId: 'A-v1' });

  // A resource removed from the template is deleted in cleanup.
  const k = handlerModule().events.length;
  expect((await stack.deploy(artifact(template({ a: { Value: 'a2', Version: 2 }, withC: false })))).status).toBe('UPDATE_COMPLETE');
  expect(eventsSince(k)).toEqual([`Delete C ${handlerModule().events[2].RequestId}`]);
});

test('rollback: a replaced resource reverts without a call, an in-place one gets its old properties back, what the update created is deleted', async () => {
  const stack = sim.stack('Engine', REGION);
  await stack.deploy(artifact(template()));
  const bId = stack.resource('B').physicalId;
  const n = handlerModule().events.length;

  const result = await stack.deploy(artifact(template({ a: { Version: 2 }, c: { Value: 'c2' } })), { fail: { C: 'Update' } });

  expect(result).toMatchObject({ status: 'UPDATE_ROLLBACK_COMPLETE', reason: 'C: injected failure on Update', failures: [] });
  expect(eventsSince(n)).toEqual([
    'Update A A-v1', // replaced: A-v2
    `Update B ${bId}`, // in place (Joined changed)
    // C fails (injected: no call). Rollback: A reverts to A-v1 without a call; B gets its old properties back.
    `Update B ${bId}`,
    // Rollback cleanup: the new A.
    'Delete A A-v2',
  ]);
  const rollback = handlerModule().events[n + 2];
  expect(rollback.ResourceProperties.Joined).toBe(`A-v1/${REGION}/123456789012`);
  expect(rollback.OldResourceProperties.Joined).toBe(`A-v2/${REGION}/123456789012`);
  expect(stack.resource('A').physicalId).toBe('A-v1');
  expect(sim.world.steps.filter((s) => s.phase === 'ROLLBACK').map((s) => `${s.action} ${s.logicalId}`)).toEqual(['Revert A', 'Update B']);
});

test('a rollback Update that fails ends in UPDATE_ROLLBACK_FAILED with the state kept', async () => {
  const stack = sim.stack('Engine', REGION);
  await stack.deploy(artifact(template()));
  handlerModule().settings.failUpdatesOf = [];
  const n = handlerModule().events.length;
  // B updates in place, then C fails; B refuses the rollback Update.
  const bUpdated = stack.deploy(artifact(template({ b: { Local: 'changed' }, c: { Value: 'c2' } })), { fail: { C: 'Update' } });
  // Let B's forward update pass, then refuse the rollback: fail Updates of B from its second one
  // (an event is recorded before the handler decides).
  const m = handlerModule();
  const original = m.events.push.bind(m.events);
  m.events.push = (...items: any[]) => {
    const r = original(...items);
    if (m.events.slice(n).filter((e) => e.LogicalResourceId === 'B' && e.RequestType === 'Update').length === 2) {
      m.settings.failUpdatesOf = ['B'];
    }
    return r;
  };
  const result = await bUpdated;
  m.events.push = original;

  expect(result.status).toBe('UPDATE_ROLLBACK_FAILED');
  expect(result.failures).toEqual([{ logicalId: 'B', reason: 'B refuses Update' }]);
  expect(stack.resource('B').properties.Local).toBe('changed');
  await expect(stack.deploy(artifact(template()))).rejects.toThrow(/UPDATE_ROLLBACK_FAILED/);
  m.settings.failUpdatesOf = [];
});

test('delete: reverse dependency order, Retain honoured, a failed Delete is DELETE_FAILED with the handler\'s message', async () => {
  const stack = sim.stack('Engine', REGION);
  await stack.deploy(artifact(template({ cRetain: true })));
  handlerModule().settings.failDeletesOf = ['B'];
  const n = handlerModule().events.length;

  const failed = await stack.delete();

  expect(failed).toMatchObject({ status: 'DELETE_FAILED', reason: 'B: B refuses Delete' });
  // C retained (no call), B failed, so A (which B depends on) stays.
  expect(eventsSince(n)).toEqual([`Delete B ${stack.resource('B').physicalId}`]);
  expect(stack.resources.has('A')).toBe(true);
  expect(stack.resources.has('C')).toBe(false);

  handlerModule().settings.failDeletesOf = [];
  expect((await stack.delete()).status).toBe('DELETE_COMPLETE');
  expect(eventsSince(n).slice(1)).toEqual([expect.stringMatching(/^Delete B /), 'Delete A A-v1']);
});

test('a response over 4096 bytes fails the step ("Response object is too long"), and a failed create rolls back', async () => {
  const stack = sim.stack('Engine', REGION);
  const result = await stack.deploy(artifact(template({ b: { BigData: 5000 } })));

  expect(result.status).toBe('ROLLBACK_COMPLETE');
  expect(result.reason).toMatch(/^B: Response object is too long\. \(\d+ bytes\)$/);
  expect(Math.max(...sim.world.responseSizes.map((r) => r.bytes))).toBeGreaterThan(4096);
  expect(stack.resources.size).toBe(0);
});
