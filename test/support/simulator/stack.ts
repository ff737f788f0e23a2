/**
 * One CloudFormation stack in the simulated world, deployed the way CloudFormation deploys it.
 *
 * Modelled:
 * - create and update in dependency order (Ref, Fn::GetAtt, Fn::Sub references, DependsOn), with
 *   the intrinsics of ./intrinsics and the pseudo parameters (AWS::StackId is a realistic
 *   `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`, new for each stack creation);
 * - custom resources through the Provider framework (./provider) and the shipped bundles taken
 *   from the assembly; their properties resolved, scalars made strings, ServiceToken included (as
 *   CloudFormation sends them);
 * - on a new template: Update only when the *resolved* properties changed (so a dependency's new
 *   attribute values reach its dependents); a custom resource whose Update returns another
 *   physical ID is replaced, and a native resource is replaced when a create-only property changes
 *   (./native lists them); resources gone from the template, and the old physical IDs of replaced
 *   ones, are deleted in the cleanup phase after every update succeeded, in reverse dependency
 *   order (UpdateReplacePolicy / DeletionPolicy Retain: no Delete); a cleanup failure is recorded
 *   and the stack stays UPDATE_COMPLETE, as in CloudFormation;
 * - failure injection per deploy (by logical ID, on Create and/or Update: the request never reaches
 *   the resource) and rollback: replaced resources go back to their old physical ID and attributes
 *   with no call (all of them first, so old properties resolve against old attributes); resources
 *   updated in place (and a custom resource whose own Update failed) get an
 *   Update with the previous template's properties, resolved against the state at that moment, in
 *   reverse order, OldResourceProperties being the failed new ones; then the rollback cleanup
 *   deletes what the failed update created (new resources and the new physical IDs of replaced ones).
 *   A failed rollback Update ends in UPDATE_ROLLBACK_FAILED, the state kept as it is;
 * - a failed first deploy rolls back by deleting what it created (ROLLBACK_COMPLETE);
 * - stack delete in reverse dependency order, DeletionPolicy Retain honoured, a failed Delete ends
 *   in DELETE_FAILED with the handler's message (resources it depends on are kept).
 * Not modelled: parallel operations (one at a time, in a deterministic topological order),
 * change sets, drift, nested stacks, stack policies, Fn::ImportValue/exports, resource imports,
 * timeouts other than the isComplete poll bound, and any native property semantics beyond ./native.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonical, evaluateCondition, referencesOf, resolve, ResolveContext, stringifyScalars } from './intrinsics';
import { createOnlyProperties, NativeContext, nativeModel, NativeState } from './native';
import { CREATE_FAILED_MARKER, ProviderFramework } from './provider';
import { SimWorld, StepRecord } from './world';

/** A template as synthesized. */
export interface Template {
  readonly Resources: Record<string, TemplateResource>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}

/** A synthesized stack: its template and the assembly folder its assets are in. */
export interface StackArtifactLike {
  readonly template: any;
  readonly assembly: { readonly directory: string };
}

export type StackStatus =
  | 'NEW' | 'CREATE_COMPLETE' | 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED' | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED' | 'DELETE_COMPLETE' | 'DELETE_FAILED';

/** A deployed resource. */
export interface ResourceState {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
  /** Resolved properties, as last applied (custom resources: as sent). */
  readonly properties: Record<string, unknown>;
  readonly attributes: Record<string, unknown>;
  readonly ref: unknown;
  readonly definition: TemplateResource;
  /** The assembly directory whose assets this resource's functions use. */
  readonly assemblyDir: string;
}

/** Options of one deploy. */
export interface DeployOptions {
  /** Logical IDs whose Create and/or Update fails (the request never reaches the resource). */
  readonly fail?: Readonly<Record<string, 'Create' | 'Update' | 'Create/Update'>>;
  /** Template parameter values. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** A deploy's or delete's outcome. */
export interface StackResult {
  readonly status: StackStatus;
  /** Why it failed (the first failure), if it did. */
  readonly reason?: string;
  /** Failures during rollback or cleanup, in order. */
  readonly failures: ReadonlyArray<{ readonly logicalId: string; readonly reason: string }>;
}

class ResourceFailure extends Error {
  constructor(readonly logicalId: string, message: string) {
    super(message);
  }
}

interface Op {
  readonly kind: 'create' | 'update' | 'replace';
  readonly logicalId: string;
  readonly before?: ResourceState;
  readonly after: ResourceState;
}

/** Native types that serve a certificate (./native records what they point at). */
const CONSUMER_TYPES = new Set([
  'AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerCertificate', 'AWS::CloudFront::Distribution', 'AWS::DMS::Endpoint',
]);

const isCustom = (type: string) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

function dependsOnList(def: TemplateResource): string[] {
  return def.DependsOn === undefined ? [] : Array.isArray(def.DependsOn) ? def.DependsOn : [def.DependsOn];
}

/** The resources of `template` (present under its conditions) in a deterministic dependency order. */
export function dependencyOrder(template: Template, present: (id: string) => boolean = () => true): string[] {
  const params = new Set(Object.keys(template.Parameters ?? {}));
  const ids = Object.keys(template.Resources).filter(present);
  const deps = new Map<string, Set<string>>();
  for (const id of ids) {
    const def = template.Resources[id];
    const refs = referencesOf(def.Properties ?? {}, undefined, params).resources;
    for (const d of dependsOnList(def)) {
      refs.add(d);
    }
    deps.set(id, new Set([...refs].filter((r) => r !== id && ids.includes(r))));
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < ids.length) {
    const next = ids.find((id) => !done.has(id) && [...deps.get(id)!].every((d) => done.has(d)));
    if (!next) {
      throw new Error(`circular dependency among ${ids.filter((id) => !done.has(id)).join(', ')}`);
    }
    order.push(next);
    done.add(next);
  }
  return order;
}

/** One stack (name + region) of the world. */
export class SimStack {
  public status: StackStatus = 'NEW';
  public stackId = '';
  public template?: Template;
  public readonly resources = new Map<string, ResourceState>();
  private parameters: Record<string, unknown> = {};
  private phase: StepRecord['phase'] = 'CREATE';

  constructor(
    private readonly world: SimWorld,
    private readonly provider: ProviderFramework,
    public readonly stackName: string,
    public readonly region: string,
  ) {}

  /** `Name(region)`, as steps and consumers name the stack. */
  public get label(): string {
    return `${this.stackName}(${this.region})`;
  }

  /** A resource's current state (throws when absent). */
  public resource(logicalId: string): ResourceState {
    const r = this.resources.get(logicalId);
    if (!r) {
      throw new Error(`${this.label} has no resource ${logicalId} (it has ${[...this.resources.keys()].join(', ')})`);
    }
    return r;
  }

  /** The logical ID of the only resource of `type` whose ID starts with `prefix`. */
  public logicalIdOf(prefix: string, type?: string): string {
    const found = [...this.resources.values()].filter((r) => r.logicalId.startsWith(prefix) && (type === undefined || r.type === type));
    if (found.length !== 1) {
      throw new Error(`${this.label}: ${found.length} resources match ${prefix}${type ? ` (${type})` : ''}: ${found.map((r) => r.logicalId).join(', ')}`);
    }
    return found[0].logicalId;
  }

  /** Deploys `artifact`: a create when the stack is new (or deleted), else an update. */
  public async deploy(artifact: StackArtifactLike, options: DeployOptions = {}): Promise<StackResult> {
    const template = artifact.template as Template;
    const assemblyDir = artifact.assembly.directory;
    const creating = this.status === 'NEW' || this.status === 'DELETE_COMPLETE' || this.status === 'ROLLBACK_COMPLETE';
    if (this.status === 'UPDATE_ROLLBACK_FAILED' || this.status === 'DELETE_FAILED' || this.status === 'ROLLBACK_FAILED') {
      throw new Error(`${this.label} is ${this.status}: CloudFormation refuses an update (continue the rollback or delete it first)`);
    }
    if (creating) {
      this.stackId = `arn:aws:cloudformation:${this.region}:${this.world.account}:stack/${this.stackName}/${randomUUID()}`;
      this.resources.clear();
      this.template = undefined;
    }
    const oldTemplate = this.template;
    const newParameters = this.parametersOf(template, options.parameters);
    const oldParameters = this.parameters;
    this.parameters = newParameters;
    this.phase = creating ? 'CREATE' : 'UPDATE';
    const ops: Op[] = [];
    const present = (id: string) => {
      const cond = template.Resources[id].Condition;
      return cond === undefined || this.condition(template, cond);
    };
    const order = dependencyOrder(template, present);
    let failure: ResourceFailure | undefined;
    let failedUpdate: { readonly logicalId: string; readonly attempted: Record<string, unknown> } | undefined;
    for (const id of order) {
      try {
        const outcome = await this.apply(template, id, assemblyDir, options);
        if (outcome) {
          ops.push(outcome);
        }
      } catch (e) {
        failure = e instanceof ResourceFailure ? e : new ResourceFailure(id, (e as Error).message);
        const attempted = (e as { attempted?: Record<string, unknown> }).attempted;
        if (attempted) {
          failedUpdate = { logicalId: id, attempted };
        }
        break;
      }
    }
    if (failure) {
      if (creating) {
        const failures = await this.deleteAll(ops.map((o) => o.after).reverse(), 'ROLLBACK_CLEANUP');
        this.status = failures.length > 0 ? 'ROLLBACK_FAILED' : 'ROLLBACK_COMPLETE';
        return { status: this.status, reason: `${failure.logicalId}: ${failure.message}`, failures };
      }
      this.parameters = oldParameters;
      return this.rollback(oldTemplate!, ops, failure, failedUpdate);
    }
    // Cleanup: removed resources and the old physical IDs of replaced ones, reverse dependency order.
    this.phase = 'UPDATE_CLEANUP';
    const failures: Array<{ logicalId: string; reason: string }> = [];
    if (oldTemplate) {
      const oldOrder = dependencyOrder(oldTemplate, (id) => this.wasPresent(oldTemplate, id, oldParameters)).reverse();
      const replaced = new Map(ops.filter((o) => o.kind === 'replace').map((o) => [o.logicalId, o.before!]));
      for (const id of oldOrder) {
        const isRemoved = !order.includes(id);
        const old = replaced.get(id) ?? (isRemoved ? this.resources.get(id) : undefined);
        if (!old) {
          continue;
        }
        const policy = replaced.has(id) ? old.definition.UpdateReplacePolicy : old.definition.DeletionPolicy;
        const problem = await this.deleteOne(old, policy);
        if (problem) {
          failures.push({ logicalId: id, reason: problem });
        }
        if (isRemoved) {
          this.resources.delete(id);
        }
      }
    }
    this.template = template;
    this.status = creating ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
    return { status: this.status, failures };
  }

  /** Deletes the stack. */
  public async delete(): Promise<StackResult> {
    if (!this.template) {
      this.status = 'DELETE_COMPLETE';
      return { status: this.status, failures: [] };
    }
    this.phase = 'DELETE';
    const template = this.template;
    const order = dependencyOrder(template, (id) => this.resources.has(id)).reverse();
    const failures: Array<{ logicalId: string; reason: string }> = [];
    const keep = new Set<string>();
    for (const id of order) {
      const state = this.resources.get(id)!;
      if (keep.has(id)) {
        continue;
      }
      const problem = await this.deleteOne(state, state.definition.DeletionPolicy);
      if (problem) {
        failures.push({ logicalId: id, reason: problem });
        // What the failed resource depends on stays.
        for (const d of this.dependenciesOf(template, id)) {
          keep.add(d);
        }
      } else {
        this.resources.delete(id);
      }
    }
    if (failures.length > 0) {
      this.status = 'DELETE_FAILED';
      return { status: this.status, reason: failures.map((f) => `${f.logicalId}: ${f.reason}`).join('; '), failures };
    }
    this.status = 'DELETE_COMPLETE';
    this.template = undefined;
    return { status: this.status, failures };
  }

  // ---- internals ----

  private dependenciesOf(template: Template, id: string): Set<string> {
    const out = new Set<string>();
    const visit = (x: string) => {
      const def = template.Resources[x];
      if (!def) {
        return;
      }
      const refs = referencesOf(def.Properties ?? {}, undefined, new Set(Object.keys(template.Parameters ?? {}))).resources;
      for (const d of [...refs, ...dependsOnList(def)]) {
        if (!out.has(d)) {
          out.add(d);
          visit(d);
        }
      }
    };
    visit(id);
    return out;
  }

  private parametersOf(template: Template, given: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      if (given[name] !== undefined) {
        out[name] = given[name];
      } else if (p.Type.startsWith('AWS::SSM::Parameter::Value')) {
        // The bootstrap version parameter and other SSM-backed parameters.
        out[name] = name === 'BootstrapVersion' ? '21' : `ssm:${String(p.Default)}`;
      } else {
        out[name] = p.Default;
      }
    }
    return out;
  }

  private context(template: Template, parameters: Record<string, unknown> = this.parameters): ResolveContext {
    const ctx: ResolveContext = {
      pseudo: {
        region: this.region,
        accountId: this.world.account,
        partition: 'aws',
        urlSuffix: 'amazonaws.com',
        stackName: this.stackName,
        stackId: this.stackId,
      },
      parameters,
      mappings: template.Mappings,
      condition: (name) => this.condition(template, name, parameters),
      ref: (id) => this.resource(id).ref,
      getAtt: (id, attribute) => {
        const r = this.resource(id);
        if (attribute === 'Ref') {
          return r.ref;
        }
        const value = r.attributes[attribute];
        if (value === undefined) {
          if (isCustom(r.type)) {
            throw new Error(`Vendor response doesn't contain ${attribute} attribute in object ${this.stackId}|${id}|${r.physicalId}`);
          }
          // A stub's attribute nobody modelled: plausible and deterministic.
          return `${r.physicalId}.${attribute}`;
        }
        return value;
      },
    };
    return ctx;
  }

  private condition(template: Template, name: string, parameters: Record<string, unknown> = this.parameters): boolean {
    const expr = template.Conditions?.[name];
    if (expr === undefined) {
      throw new Error(`no condition ${name}`);
    }
    return evaluateCondition(expr, this.context(template, parameters));
  }

  private wasPresent(template: Template, id: string, parameters: Record<string, unknown>): boolean {
    const cond = template.Resources[id].Condition;
    return cond === undefined || this.condition(template, cond, parameters);
  }

  private resolveProperties(template: Template, id: string, parameters?: Record<string, unknown>): Record<string, unknown> {
    const def = template.Resources[id];
    const resolved = resolve(def.Properties ?? {}, this.context(template, parameters)) as Record<string, unknown>;
    return isCustom(def.Type) ? stringifyScalars(resolved) as Record<string, unknown> : resolved;
  }

  private nativeContext(id: string, type: string): NativeContext {
    return {
      world: this.world,
      region: this.region,
      account: this.world.account,
      stackName: this.stackName,
      stackId: this.stackId,
      logicalId: id,
      type,
      consumerKey: (physicalId) => `${this.stackId}|${id}|${physicalId}`,
    };
  }

  /** Creates, updates or replaces one resource of the new template; undefined when unchanged. */
  private async apply(template: Template, id: string, assemblyDir: string, options: DeployOptions): Promise<Op | undefined> {
    const def = template.Resources[id];
    let props: Record<string, unknown>;
    try {
      props = this.resolveProperties(template, id);
    } catch (e) {
      const step = await this.step({ logicalId: id, resourceType: def.Type, action: this.resources.has(id) ? 'Update' : 'Create', ok: false, reason: (e as Error).message });
      await this.check(step);
      throw new ResourceFailure(id, `${(e as Error).message} (step #${step.seq})`);
    }
    const existing = this.resources.get(id);
    const injected = options.fail?.[id];
    if (!existing || existing.type !== def.Type) {
      if (injected && injected.includes('Create')) {
        await this.check(await this.step({ logicalId: id, resourceType: def.Type, action: 'Create', ok: false, reason: 'injected failure' }));
        throw new ResourceFailure(id, 'injected failure on Create');
      }
      const after = await this.create(id, def, props, assemblyDir);
      if (existing) {
        return { kind: 'replace', logicalId: id, before: existing, after };
      }
      return { kind: 'create', logicalId: id, after };
    }
    if (canonical(props) === canonical(existing.properties)) {
      // Unchanged: only the definition (policies, metadata) moves to the new template.
      this.resources.set(id, { ...existing, definition: def, assemblyDir });
      return undefined;
    }
    if (injected && injected.includes('Update')) {
      await this.check(await this.step({ logicalId: id, resourceType: def.Type, action: 'Update', physicalId: existing.physicalId, ok: false, reason: 'injected failure' }));
      throw new ResourceFailure(id, 'injected failure on Update');
    }
    if (isCustom(def.Type)) {
      const res = await this.invokeCustom('Update', id, def, props, assemblyDir, existing.properties, existing.physicalId);
      if (!res.ok) {
        await this.check(res.step);
        throw Object.assign(new ResourceFailure(id, res.reason!), { attempted: props });
      }
      const after = this.customState(id, def, res, props, assemblyDir);
      this.resources.set(id, after);
      await this.check(res.step);
      return { kind: res.physicalId === existing.physicalId ? 'update' : 'replace', logicalId: id, before: existing, after };
    }
    const createOnly = createOnlyProperties(def.Type);
    if (createOnly.some((k) => canonical(props[k]) !== canonical(existing.properties[k]))) {
      const after = await this.create(id, def, props, assemblyDir);
      return { kind: 'replace', logicalId: id, before: existing, after };
    }
    const model = nativeModel(def.Type);
    const ctx = this.nativeContext(id, def.Type);
    let state: NativeState;
    try {
      state = model.update ? await model.update(ctx, props, existing) : existing;
    } catch (e) {
      await this.check(await this.step({ logicalId: id, resourceType: def.Type, action: 'Update', physicalId: existing.physicalId, ok: false, reason: (e as Error).message }));
      throw Object.assign(new ResourceFailure(id, (e as Error).message), { attempted: props });
    }
    const after: ResourceState = { ...existing, ...state, properties: props, definition: def, assemblyDir };
    this.resources.set(id, after);
    await this.check(await this.step({ logicalId: id, resourceType: def.Type, action: 'Update', physicalId: after.physicalId, ok: true }));
    return { kind: 'update', logicalId: id, before: existing, after };
  }

  private async create(id: string, def: TemplateResource, props: Record<string, unknown>, assemblyDir: string): Promise<ResourceState> {
    if (isCustom(def.Type)) {
      const res = await this.invokeCustom('Create', id, def, props, assemblyDir);
      if (!res.ok) {
        await this.check(res.step);
        throw new ResourceFailure(id, res.reason!);
      }
      const state = this.customState(id, def, res, props, assemblyDir);
      this.resources.set(id, state);
      await this.check(res.step);
      return state;
    }
    let native: NativeState;
    try {
      native = await nativeModel(def.Type).create(this.nativeContext(id, def.Type), props);
    } catch (e) {
      await this.check(await this.step({ logicalId: id, resourceType: def.Type, action: 'Create', ok: false, reason: (e as Error).message }));
      throw new ResourceFailure(id, (e as Error).message);
    }
    const state: ResourceState = { logicalId: id, type: def.Type, ...native, properties: props, definition: def, assemblyDir };
    this.resources.set(id, state);
    await this.check(await this.step({ logicalId: id, resourceType: def.Type, action: 'Create', physicalId: state.physicalId, ok: true }));
    return state;
  }

  private async rollback(
    oldTemplate: Template,
    ops: Op[],
    failure: ResourceFailure,
    failedUpdate?: { readonly logicalId: string; readonly attempted: Record<string, unknown> },
  ): Promise<StackResult> {
    this.phase = 'ROLLBACK';
    const reason = `${failure.logicalId}: ${failure.message}`;
    const failures: Array<{ logicalId: string; reason: string }> = [];
    // 1. Replaced resources: back to the old physical ID and attributes, no call.
    for (const op of ops.filter((o) => o.kind === 'replace')) {
      this.resources.set(op.logicalId, op.before!);
      await this.check(await this.step({ logicalId: op.logicalId, resourceType: op.before!.type, action: 'Revert', physicalId: op.before!.physicalId, ok: true }));
    }
    // 2. In-place updates (and the custom resource whose own Update failed), in reverse order.
    const inPlace: Array<{ logicalId: string; current: Record<string, unknown> }> = ops
      .filter((o) => o.kind === 'update')
      .map((o) => ({ logicalId: o.logicalId, current: o.after.properties }));
    if (failedUpdate) {
      inPlace.push({ logicalId: failedUpdate.logicalId, current: failedUpdate.attempted });
    }
    for (const { logicalId, current } of inPlace.reverse()) {
      const state = this.resources.get(logicalId)!;
      const def = oldTemplate.Resources[logicalId];
      let props: Record<string, unknown>;
      try {
        props = this.resolveProperties(oldTemplate, logicalId);
      } catch (e) {
        failures.push({ logicalId, reason: (e as Error).message });
        this.status = 'UPDATE_ROLLBACK_FAILED';
        return { status: this.status, reason, failures };
      }
      if (isCustom(def.Type)) {
        const res = await this.invokeCustom('Update', logicalId, def, props, state.assemblyDir, current, state.physicalId);
        if (!res.ok) {
          failures.push({ logicalId, reason: res.reason! });
          await this.check(res.step);
          this.status = 'UPDATE_ROLLBACK_FAILED';
          return { status: this.status, reason, failures };
        }
        this.resources.set(logicalId, this.customState(logicalId, def, res, props, state.assemblyDir));
        await this.check(res.step);
      } else {
        try {
          const model = nativeModel(def.Type);
          const next = model.update ? await model.update(this.nativeContext(logicalId, def.Type), props, state) : state;
          this.resources.set(logicalId, { ...state, ...next, properties: props, definition: def });
          await this.check(await this.step({ logicalId, resourceType: def.Type, action: 'Update', physicalId: state.physicalId, ok: true }));
        } catch (e) {
          failures.push({ logicalId, reason: (e as Error).message });
          await this.check(await this.step({ logicalId, resourceType: def.Type, action: 'Update', physicalId: state.physicalId, ok: false, reason: (e as Error).message }));
          this.status = 'UPDATE_ROLLBACK_FAILED';
          return { status: this.status, reason, failures };
        }
      }
    }
    // 3. Rollback cleanup: what the failed update created.
    this.phase = 'ROLLBACK_CLEANUP';
    const created = ops.filter((o) => o.kind === 'create' || o.kind === 'replace').reverse();
    for (const op of created) {
      const problem = await this.deleteOne(op.after, op.kind === 'create' ? op.after.definition.DeletionPolicy : undefined);
      if (problem) {
        failures.push({ logicalId: op.logicalId, reason: problem });
      }
      if (op.kind === 'create') {
        this.resources.delete(op.logicalId);
      }
    }
    this.status = 'UPDATE_ROLLBACK_COMPLETE';
    return { status: this.status, reason, failures };
  }

  private async deleteAll(states: ResourceState[], phase: StepRecord['phase']): Promise<Array<{ logicalId: string; reason: string }>> {
    this.phase = phase;
    const failures: Array<{ logicalId: string; reason: string }> = [];
    for (const s of states) {
      const problem = await this.deleteOne(s, s.definition.DeletionPolicy);
      if (problem) {
        failures.push({ logicalId: s.logicalId, reason: problem });
      }
      this.resources.delete(s.logicalId);
    }
    return failures;
  }

  /** Deletes one physical resource (unless retained); returns the failure reason, if any. */
  private async deleteOne(state: ResourceState, policy: string | undefined): Promise<string | undefined> {
    if (policy === 'Retain' || policy === 'RetainExceptOnCreate' && this.phase !== 'ROLLBACK_CLEANUP') {
      await this.check(await this.step({ logicalId: state.logicalId, resourceType: state.type, action: 'Retain', physicalId: state.physicalId, ok: true }));
      return undefined;
    }
    if (isCustom(state.type)) {
      const res = await this.invokeCustom('Delete', state.logicalId, state.definition, state.properties, state.assemblyDir, undefined, state.physicalId);
      await this.check(res.step);
      return res.ok ? undefined : res.reason;
    }
    try {
      const model = nativeModel(state.type);
      await model.delete?.(this.nativeContext(state.logicalId, state.type), state);
    } catch (e) {
      await this.check(await this.step({ logicalId: state.logicalId, resourceType: state.type, action: 'Delete', physicalId: state.physicalId, ok: false, reason: (e as Error).message }));
      return (e as Error).message;
    }
    await this.check(await this.step({ logicalId: state.logicalId, resourceType: state.type, action: 'Delete', physicalId: state.physicalId, ok: true }));
    return undefined;
  }

  /** Finds the user functions behind a ServiceToken (the Provider framework's onEvent function). */
  private userFunctions(serviceToken: string, assemblyDir: string) {
    const byArn = (arn: string) => [...this.resources.values()].find((r) => r.type === 'AWS::Lambda::Function' && r.attributes.Arn === arn);
    const framework = byArn(serviceToken);
    if (!framework) {
      throw new Error(`ServiceToken ${serviceToken} is not a Lambda function of ${this.label}`);
    }
    const env = ((framework.properties.Environment as any)?.Variables ?? {}) as Record<string, string>;
    const code = (arn: string | undefined) => {
      if (!arn) {
        return undefined;
      }
      const fn = byArn(arn);
      if (!fn) {
        throw new Error(`${arn} (from ${framework.logicalId}'s environment) is not a Lambda function of ${this.label}`);
      }
      const handler = String(fn.properties.Handler ?? 'index.handler');
      const [fileBase, exportName] = [handler.slice(0, handler.lastIndexOf('.')), handler.slice(handler.lastIndexOf('.') + 1)];
      const assetPath = fn.definition.Metadata?.['aws:asset:path'] as string | undefined
        ?? `asset.${String((fn.properties.Code as any)?.S3Key ?? '').replace(/\.zip$/, '')}`;
      const file = path.join(path.isAbsolute(assetPath) ? assetPath : path.join(fn.assemblyDir || assemblyDir, assetPath), `${fileBase}.js`);
      if (!fs.existsSync(file)) {
        throw new Error(`the code of ${fn.logicalId} is not in the assembly (${file})`);
      }
      return { functionArn: arn, file, exportName };
    };
    const onEvent = code(env.USER_ON_EVENT_FUNCTION_ARN);
    if (!onEvent) {
      throw new Error(`${framework.logicalId} is not a Provider framework onEvent function (no USER_ON_EVENT_FUNCTION_ARN)`);
    }
    return { onEvent, isComplete: code(env.USER_IS_COMPLETE_FUNCTION_ARN) };
  }

  private async invokeCustom(
    requestType: 'Create' | 'Update' | 'Delete',
    id: string,
    def: TemplateResource,
    props: Record<string, unknown>,
    assemblyDir: string,
    oldProps?: Record<string, unknown>,
    physicalId?: string,
  ): Promise<{ ok: boolean; physicalId: string; data: Record<string, unknown>; reason?: string; step: StepRecord }> {
    let functions;
    try {
      functions = this.userFunctions(String(props.ServiceToken), assemblyDir);
    } catch (e) {
      const reason = (e as Error).message;
      const step = await this.step({ logicalId: id, resourceType: def.Type, action: requestType, physicalId, ok: false, reason });
      return { ok: false, physicalId: physicalId ?? CREATE_FAILED_MARKER, data: {}, reason: (e as Error).message, step };
    }
    const res = await this.provider.invoke({
      requestType,
      region: this.region,
      stackId: this.stackId,
      logicalId: id,
      resourceType: def.Type,
      properties: props,
      oldProperties: oldProps,
      physicalId,
      onEvent: functions.onEvent,
      isComplete: functions.isComplete,
    });
    const step = await this.step({
      logicalId: id,
      resourceType: def.Type,
      action: requestType,
      physicalId: res.physicalId,
      ok: res.ok,
      reason: res.reason,
      responseBytes: res.responseBytes,
    });
    if (res.invoked) {
      this.world.responseSizes.push({ seq: step.seq, bytes: res.responseBytes, logicalId: id });
    }
    return { ...res, step };
  }

  private customState(
    id: string,
    def: TemplateResource,
    res: { readonly physicalId: string; readonly data: Record<string, unknown> },
    props: Record<string, unknown>,
    assemblyDir: string,
  ): ResourceState {
    return {
      logicalId: id,
      type: def.Type,
      physicalId: res.physicalId,
      ref: res.physicalId,
      properties: props,
      attributes: res.data,
      definition: def,
      assemblyDir,
    };
  }

  private async step(s: Omit<StepRecord, 'seq' | 'stack' | 'phase'>): Promise<StepRecord> {
    return this.world.record({ ...s, stack: this.label, phase: this.phase });
  }

  private async check(step: StepRecord): Promise<void> {
    const type = step.resourceType;
    const touches = isCustom(type) || type.startsWith('AWS::ACMPCA::') || type === 'AWS::SecretsManager::Secret'
      ? 'services'
      : CONSUMER_TYPES.has(type) ? 'consumers' : 'nothing';
    await this.world.checkInvariant(step, touches);
  }
}
