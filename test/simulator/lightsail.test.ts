/**
 * Simulator scenario 7 (issue 13): a LightsailCertificate with 10 domains of the maximum length
 * Lightsail allows: the domain name 64 characters (the certificate's CN limit), the nine alternative
 * names 253 characters each (labels of at most 63), validated through Route 53 (the record sets are
 * recorded by the simulator; the Lightsail fake issues the certificate once polled): the create
 * succeeds, and every custom-resource response the simulator measured, as the Provider framework
 * sends it to CloudFormation, is within 4096 bytes.
 */
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describeSteps, expectInvariantHeld, expectStatus, stackIn, synth } from './helpers';
import { LightsailCertificate } from '../../src';
import { MAX_RESPONSE_BYTES, Simulator } from '../support/simulator';

const REGION = 'us-east-1';
const ZONE = 'example.com';
let sim: Simulator;

beforeAll(async () => {
  sim = await Simulator.start({ lightsail: true });
  // Lightsail validates as soon as the records are polled once.
  sim.world.lightsail!.issueAfterPolls = { polls: 0, outcome: 'ISSUED' };
});

afterEach(async () => {
  await sim.reset();
});

afterAll(async () => {
  await sim?.stop();
});

/** A 253-character name under example.com, its labels at most 63 characters, told apart by `i`. */
function longDomain(i: number): string {
  const label = (c: string, n: number) => `${i}${c.repeat(n - 1)}`;
  const name = [label('a', 63), label('b', 63), label('c', 63), label('d', 49), ZONE].join('.');
  if (name.length !== 253) {
    throw new Error(`built a ${name.length}-character name`);
  }
  return name;
}

/** A 64-character name under example.com (domainName's maximum). */
function longestDomainName(): string {
  const name = `${'w'.repeat(64 - ZONE.length - 1)}.${ZONE}`;
  return name;
}

test('scenario 7: 10 domains of the maximum length (64 + 9 x 253 characters): the create succeeds and every response is within 4096 bytes', async () => {
  const domains = [longestDomainName(), ...Array.from({ length: 9 }, (_, i) => longDomain(i))];
  expect(domains.map((d) => d.length)).toEqual([64, ...Array(9).fill(253)]);
  const assembly = synth((app) => {
    const stack = stackIn(app, 'Site', REGION);
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: ZONE });
    new LightsailCertificate(stack, 'Site', { domainName: domains[0], subjectAlternativeNames: domains.slice(1), hostedZone: zone });
  });
  const site = sim.stack('Site', REGION);

  const result = await site.deploy(assembly.getStackByName('Site'));

  const sizes = sim.world.responseSizes.map((r) => `${r.logicalId}: ${r.bytes} bytes`).join('\n');
  expectStatus(sim.world, result, 'CREATE_COMPLETE');
  expect({ largest: Math.max(...sim.world.responseSizes.map((r) => r.bytes)), sizes }).toMatchObject({ largest: expect.any(Number) });
  for (const r of sim.world.responseSizes) {
    expect({ response: `${r.logicalId}: ${r.bytes} bytes`, within: r.bytes <= MAX_RESPONSE_BYTES }).toEqual({ response: `${r.logicalId}: ${r.bytes} bytes`, within: true });
  }
  // One validation record per domain, as Lightsail asked, and the certificate ISSUED.
  const records = [...site.resources.values()].filter((r) => r.type === 'AWS::Route53::RecordSet');
  expect({ records: records.length, log: describeSteps(sim.world) }).toMatchObject({ records: 10 });
  expect(sim.world.lightsail!.only().status).toBe('ISSUED');
  expectInvariantHeld(sim.world);

  expectStatus(sim.world, await site.delete(), 'DELETE_COMPLETE');
  expect(sim.world.lightsail!.all()).toHaveLength(0);
});
