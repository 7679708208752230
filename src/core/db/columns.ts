/** Portable column encodings shared by every service's repositories. */

export const bool = (v: boolean | undefined | null): number => (v ? 1 : 0);
export const isTrue = (v: number | boolean | null | undefined): boolean => v === 1 || v === true;

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  // The commonest stored values, without a parse.
  if (text === '[]') return [] as T;
  if (text === '{}') return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
