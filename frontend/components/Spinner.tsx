export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <output className="loading" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}…</span>
    </output>
  );
}
