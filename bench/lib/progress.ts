/** The live display: one line per event or per second, on stderr, stamped with the run's clock. */
const started = Date.now();

function stamp(): string {
  const seconds = Math.floor((Date.now() - started) / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

export const progress = {
  line(label: string, text: string): void {
    process.stderr.write(`[${stamp()}] ${label.padEnd(28)} ${text}\n`);
  },
  phase(text: string): void {
    process.stderr.write(`[${stamp()}] ▶ ${text}\n`);
  },
};
