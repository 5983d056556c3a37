// Counts the requests that hold a servable version (from look-up to answer), so that a version
// replaced by a reload, or unloaded, is closed only once the requests that chose it are done:
// they finish on the instances they were batched on.
export class ServableUsage {
  private users = 0;
  private waiters: (() => void)[] = [];

  /** Marks one request as using the version; call the returned function exactly once when done. */
  retain(): () => void {
    this.users++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.users === 0) for (const w of this.waiters.splice(0)) w();
    };
  }

  get inUse(): number {
    return this.users;
  }

  /** Resolves once no request uses the version. */
  idle(): Promise<void> {
    return this.users === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
