/**
 * Readers of KMS reply values: KMS renders the same field as a string, a number, a boolean or JSON
 * text depending on the operation, so every field is read through one of these.
 */
export function requireValue(name: string, value: unknown): void {
  if (value === undefined || value === null || value === '') {
    throw new Error(`KmsCertificatesApi: ${name} is required`);
  }
}

export function optionalString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value.length > 0 ? value : undefined;
  }
  if (typeof value === 'number') {
    return String(value);
  }
  return undefined;
}

export function requiredString(body: Record<string, unknown>, field: string, action: string): string {
  const value = optionalString(body[field]);
  if (value === undefined) {
    throw new Error(`KMS ${action} reply has no ${field}`);
  }
  return value;
}

export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') {
    return value;
  }
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  return undefined;
}

// SubjectAlternativeNames comes back as an array, or as a JSON array string in some renderings.
export function parseStringList(value: unknown): string[] {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return value.length > 0 ? [value] : [];
    }
  }
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
}

// Tags come as `[{TagKey, TagValue}]` or `{ Tag: [{TagKey, TagValue}] }`, possibly JSON-encoded.
export function parseTags(value: unknown): Record<string, string> {
  let raw = value;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      return {};
    }
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    raw = (raw as { Tag?: unknown }).Tag;
  }
  const tags: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const key = optionalString((item as { TagKey?: unknown })?.TagKey);
      if (key !== undefined) {
        tags[key] = optionalString((item as { TagValue?: unknown }).TagValue) ?? '';
      }
    }
  }
  return tags;
}
