/** Numbers for people, shared by the server's messages and the page (no Node APIs here). */

/**
 * A byte count for messages people read, labelled in the unit family it was most likely set in so
 * that a limit shows back as configured: 20971520 -> "20 MiB", 5000000 -> "5 MB", 1536 -> "1.5 KiB".
 * Binary multiples are never labelled "MB" (the 1024² / "MB" mix-up made 5MB show as "4.8 MB").
 *
 * @param like the number whose unit family to use (a file's size is shown in its limit's units, so
 *   that a 20.5 MB file is not called "19.6 MiB" next to a "20 MB" limit).
 */
export function formatBytes(bytes: number, like: number = bytes): string {
  const units: [number, string][] =
    like % 1024 !== 0 && like % 1000 === 0
      ? [
          [1e9, 'GB'],
          [1e6, 'MB'],
          [1e3, 'kB'],
        ]
      : [
          [1024 ** 3, 'GiB'],
          [1024 ** 2, 'MiB'],
          [1024, 'KiB'],
        ];
  const unit = units.find(([size]) => bytes >= size);
  return unit ? `${+(bytes / unit[0]).toFixed(2)} ${unit[1]}` : `${bytes} bytes`;
}

/**
 * A loss or metric for the training page: 4 significant digits, or exponent notation when very large
 * or very small (a learning rate of 0.0002 reads as "2.00e-4"); "–" for none.
 */
export function formatMetric(value: number | null | undefined, digits = 4): string {
  if (value === undefined || value === null) return '–';
  return Math.abs(value) >= 1000 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : value.toPrecision(digits);
}
