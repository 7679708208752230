import { isoMicro } from '../../core/ids.js';

/** Stored form of image timestamps: ISO-8601 with microseconds, so text order is time order. */
export function toStoredTime(date: Date = new Date()): string {
  return isoMicro(date);
}

/** Glance shows image times to the second: `2026-11-22T01:02:03Z`. */
export function toApiTime(stored: string): string {
  return stored.replace(/\.\d+Z$/, 'Z');
}
