/**
 * Text that names command-line flags ("start it with --allow-kill"): each
 * flag is set as code and never broken across lines.
 */
export function Flags({ text }: { text: string }) {
  const parts = text.split(/(--[\w-]+)/);
  return (
    <>
      {parts.map((p, i) =>
        i % 2 ? (
          <code key={i} className="flag">
            {p}
          </code>
        ) : (
          p
        ),
      )}
    </>
  );
}
