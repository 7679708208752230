/**
 * A counter bumped on every identity write that can change what a token
 * means (roles, users, projects, catalog, revocations). Caches remember the
 * generation they were filled at and drop entries from older ones.
 */
export class Generation {
  private value = 0;
  private readonly listeners: Array<() => void> = [];
  get current(): number {
    return this.value;
  }
  bump(): void {
    this.value++;
    for (const l of this.listeners) l();
  }
  onBump(listener: () => void): void {
    this.listeners.push(listener);
  }
}
