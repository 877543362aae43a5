// Coalesces ping's many small writes (a line per probe, a dot per flood probe) into few large
// ones: flushed when 64 KiB pile up, once the current burst of callbacks is over, or on demand.

export class BufferedWriter {
  private parts: string[] = [];
  private size = 0;
  private scheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly sink: (text: string) => void,
    private readonly limit = 64 * 1024,
  ) {}

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.limit) this.flush();
    else this.scheduled ??= setImmediate(() => {
      this.scheduled = null;
      this.flush();
    });
  }

  flush(): void {
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.sink(text);
  }
}
