import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Everything the data plane creates outside its own namespace-scoped names
 * (network namespaces are global to the machine) is written here *before* it
 * is created and dropped *after* it is removed. A crash in between leaves an
 * entry for something that may or may not exist; reconcile removes both
 * kinds safely. Nothing is ever removed that this journal did not record or
 * that does not carry our naming inside our host namespace.
 */

export type ResourceKind = 'netns' | 'link' | 'dnsmasq' | 'listener';

export interface JournalEntry {
  kind: ResourceKind;
  name: string;
  /** Namespace of a link (undefined: the host namespace). */
  ns?: string;
}

const key = (e: JournalEntry) => `${e.kind}|${e.ns ?? ''}|${e.name}`;

export class ResourceJournal {
  private readonly entries = new Map<string, JournalEntry>();

  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file)) {
      for (const e of JSON.parse(readFileSync(file, 'utf8')) as JournalEntry[]) this.entries.set(key(e), e);
    }
  }

  has(e: JournalEntry): boolean {
    return this.entries.has(key(e));
  }

  add(e: JournalEntry): void {
    if (this.entries.has(key(e))) return;
    this.entries.set(key(e), e);
    this.save();
  }

  remove(e: JournalEntry): void {
    if (this.entries.delete(key(e))) this.save();
  }

  list(kind?: ResourceKind): JournalEntry[] {
    return [...this.entries.values()].filter((e) => !kind || e.kind === kind);
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify([...this.entries.values()], null, 1)}\n`);
    renameSync(tmp, this.file);
  }
}
