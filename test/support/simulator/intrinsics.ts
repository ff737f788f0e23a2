/**
 * CloudFormation's intrinsic functions, as far as synthesized CDK templates use them: `Ref`,
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` (string and [string, variables] forms), `Fn::Select`,
 * `Fn::Split`, `Fn::If` with `Conditions` (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`,
 * `Condition`), `Fn::FindInMap`, `Fn::Base64`, and the pseudo parameters (`AWS::NoValue` removes
 * the key or list element, as CloudFormation does). Anything else fails loudly, naming the function.
 */

/** The pseudo parameters of one stack. */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  readonly stackId: string;
}

/** What resolution reads from the stack being deployed. */
export interface ResolveContext {
  readonly pseudo: PseudoParameters;
  /** Template parameters (their defaults, or values given at deploy). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly mappings?: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
  /** The condition's value (evaluated on demand). */
  condition(name: string): boolean;
  /** Ref of a resource: its physical ID (or what the type's Ref returns). */
  ref(logicalId: string): unknown;
  /** Fn::GetAtt of a resource. */
  getAtt(logicalId: string, attribute: string): unknown;
}

/** The value CloudFormation removes (AWS::NoValue). */
export const NO_VALUE = Symbol('AWS::NoValue');

/** A reference a template value makes: to a resource (Ref, GetAtt, Sub) or a condition. */
export interface References {
  readonly resources: Set<string>;
  readonly conditions: Set<string>;
}

const PSEUDO = new Set(['AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::URLSuffix', 'AWS::StackName', 'AWS::StackId', 'AWS::NoValue', 'AWS::NotificationARNs']);

/** Every resource and condition `value` refers to (for dependency order). */
export function referencesOf(
  value: unknown,
  into: References = { resources: new Set(), conditions: new Set() },
  parameters: ReadonlySet<string> = new Set(),
): References {
  if (Array.isArray(value)) {
    value.forEach((v) => referencesOf(v, into, parameters));
    return into;
  }
  if (!value || typeof value !== 'object') {
    return into;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0];
    if (fn === 'Ref' && typeof arg === 'string') {
      if (!PSEUDO.has(arg) && !parameters.has(arg)) {
        into.resources.add(arg);
      }
      return into;
    }
    if (fn === 'Fn::GetAtt') {
      const target = Array.isArray(arg) ? arg[0] : String(arg).split('.')[0];
      into.resources.add(String(target));
      return into;
    }
    if (fn === 'Fn::Sub') {
      const [template, variables] = Array.isArray(arg) ? [arg[0] as string, (arg[1] ?? {}) as Record<string, unknown>] : [arg as string, {}];
      for (const name of subVariables(template)) {
        if (name in variables || PSEUDO.has(name) || parameters.has(name.split('.')[0])) {
          continue;
        }
        into.resources.add(name.split('.')[0]);
      }
      referencesOf(variables, into, parameters);
      return into;
    }
    if (fn === 'Condition' && typeof arg === 'string') {
      into.conditions.add(arg);
      return into;
    }
    if (fn === 'Fn::If' && Array.isArray(arg)) {
      into.conditions.add(String(arg[0]));
      referencesOf(arg.slice(1), into, parameters);
      return into;
    }
  }
  for (const [, v] of entries) {
    referencesOf(v, into, parameters);
  }
  return into;
}

function subVariables(template: string): string[] {
  const names: string[] = [];
  const re = /\$\{([^!}][^}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(template)) !== null) {
    names.push(m[1].trim());
  }
  return names;
}

function pseudoValue(name: string, ctx: ResolveContext): unknown {
  switch (name) {
    case 'AWS::Region': return ctx.pseudo.region;
    case 'AWS::AccountId': return ctx.pseudo.accountId;
    case 'AWS::Partition': return ctx.pseudo.partition;
    case 'AWS::URLSuffix': return ctx.pseudo.urlSuffix;
    case 'AWS::StackName': return ctx.pseudo.stackName;
    case 'AWS::StackId': return ctx.pseudo.stackId;
    case 'AWS::NoValue': return NO_VALUE;
    case 'AWS::NotificationARNs': return [];
    default: return undefined;
  }
}

function refValue(name: string, ctx: ResolveContext): unknown {
  if (PSEUDO.has(name)) {
    return pseudoValue(name, ctx);
  }
  if (Object.prototype.hasOwnProperty.call(ctx.parameters, name)) {
    return ctx.parameters[name];
  }
  return ctx.ref(name);
}

/** Evaluates a condition expression (the body of a `Conditions` entry). */
export function evaluateCondition(expr: unknown, ctx: ResolveContext): boolean {
  const value = resolve(expr, ctx);
  if (typeof value === 'boolean') {
    return value;
  }
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  throw new Error(`a condition evaluated to ${JSON.stringify(value)}, not a boolean`);
}

/** Resolves every intrinsic in `value`; AWS::NoValue removes keys and list elements. */
export function resolve(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, ctx)).filter((v) => v !== NO_VALUE);
  }
  if (!value || typeof value !== 'object') {
    return value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::') || entries[0][0] === 'Condition')) {
    return resolveFunction(entries[0][0], entries[0][1], ctx);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const r = resolve(v, ctx);
    if (r !== NO_VALUE) {
      out[k] = r;
    }
  }
  return out;
}

function asString(value: unknown, where: string): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

function resolveFunction(fn: string, arg: unknown, ctx: ResolveContext): unknown {
  switch (fn) {
    case 'Ref':
      return refValue(String(arg), ctx);
    case 'Condition':
      return ctx.condition(String(arg));
    case 'Fn::GetAtt': {
      const [id, ...attr] = Array.isArray(arg) ? [String(arg[0]), asString(resolve(arg[1], ctx), 'Fn::GetAtt')] : String(arg).split('.');
      return ctx.getAtt(id, attr.join('.'));
    }
    case 'Fn::Join': {
      const [sep, list] = arg as [string, unknown];
      const items = resolve(list, ctx);
      if (!Array.isArray(items)) {
        throw new Error(`Fn::Join: expected a list, got ${JSON.stringify(items)}`);
      }
      return items.map((i) => asString(i, 'Fn::Join')).join(sep);
    }
    case 'Fn::Sub': {
      const [template, variables] = Array.isArray(arg)
        ? [arg[0] as string, resolve(arg[1] ?? {}, ctx) as Record<string, unknown>]
        : [arg as string, {}];
      return template.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
        if (inner.startsWith('!')) {
          return '${' + inner.slice(1) + '}';
        }
        const name = inner.trim();
        if (Object.prototype.hasOwnProperty.call(variables, name)) {
          return asString(variables[name], 'Fn::Sub');
        }
        if (PSEUDO.has(name) || Object.prototype.hasOwnProperty.call(ctx.parameters, name)) {
          return asString(refValue(name, ctx), 'Fn::Sub');
        }
        const dot = name.indexOf('.');
        if (dot > 0) {
          return asString(ctx.getAtt(name.slice(0, dot), name.slice(dot + 1)), 'Fn::Sub');
        }
        return asString(ctx.ref(name), `Fn::Sub ${whole}`);
      });
    }
    case 'Fn::Select': {
      const [index, list] = arg as [unknown, unknown];
      const items = resolve(list, ctx);
      const i = Number(resolve(index, ctx));
      if (!Array.isArray(items) || !(i >= 0 && i < items.length)) {
        throw new Error(`Fn::Select: index ${i} out of ${JSON.stringify(items)}`);
      }
      return items[i];
    }
    case 'Fn::Split': {
      const [sep, source] = arg as [string, unknown];
      return asString(resolve(source, ctx), 'Fn::Split').split(sep);
    }
    case 'Fn::If': {
      const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
      return resolve(ctx.condition(name) ? whenTrue : whenFalse, ctx);
    }
    case 'Fn::Equals': {
      const [a, b] = (arg as unknown[]).map((v) => resolve(v, ctx));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case 'Fn::And':
      return (arg as unknown[]).every((v) => evaluateCondition(v, ctx));
    case 'Fn::Or':
      return (arg as unknown[]).some((v) => evaluateCondition(v, ctx));
    case 'Fn::Not':
      return !evaluateCondition((arg as unknown[])[0], ctx);
    case 'Fn::FindInMap': {
      const [map, top, second] = (arg as unknown[]).map((v) => resolve(v, ctx));
      const found = ctx.mappings?.[String(map)]?.[String(top)]?.[String(second)];
      if (found === undefined) {
        throw new Error(`Fn::FindInMap: no ${String(map)}.${String(top)}.${String(second)}`);
      }
      return found;
    }
    case 'Fn::Base64':
      return Buffer.from(asString(resolve(arg, ctx), 'Fn::Base64'), 'utf8').toString('base64');
    default:
      throw new Error(`the simulator does not model ${fn}`);
  }
}

// CloudFormation's stringified custom-resource properties and a stable comparison: the harness's
// and the handlers' own helpers, one implementation each.
export { stringifyProps as stringifyScalars } from '../harness/lifecycle';
export { canonicalJson as canonical } from '../../../lambda/shared/physical-name';
