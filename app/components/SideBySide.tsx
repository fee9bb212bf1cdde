'use client';

/**
 * Original and result next to each other at the same display size, with zoom; scrolling one pane
 * scrolls the other so the same detail stays in view.
 */
import { useRef, useState } from 'react';

interface Props {
  before: string;
  after: string;
  width: number;
  height: number;
}

const ZOOMS = [
  { value: 'fit', label: 'Fit' },
  { value: '1', label: '100%' },
  { value: '2', label: '200%' },
  { value: '4', label: '400%' },
] as const;
type Zoom = (typeof ZOOMS)[number]['value'];

export function SideBySide({ before, after, width, height }: Props) {
  const [zoom, setZoom] = useState<Zoom>('fit');
  const panes = [useRef<HTMLDivElement>(null), useRef<HTMLDivElement>(null)];
  const syncing = useRef(false);

  const onScroll = (from: number) => {
    if (syncing.current) return;
    const source = panes[from]?.current;
    const target = panes[1 - from]?.current;
    if (!source || !target) return;
    syncing.current = true;
    target.scrollLeft = source.scrollLeft;
    target.scrollTop = source.scrollTop;
    requestAnimationFrame(() => (syncing.current = false));
  };

  // Fit: the pane takes the image's shape, except that the CSS keeps it between a usable minimum
  // height and most of the screen; an image of an extreme shape (a 3000 × 2 strip) is letterboxed.
  const imageStyle = zoom === 'fit' ? { width: '100%' } : { width: `${width * Number(zoom)}px`, maxWidth: 'none' };
  const pixelated = zoom !== 'fit' && zoom !== '1';

  return (
    <div className="side-by-side">
      <div className="zoom-bar" role="group" aria-label="Zoom">
        <span className="muted small">Zoom</span>
        <div className="segmented">
          {ZOOMS.map((z) => (
            <button key={z.value} type="button" aria-pressed={zoom === z.value} onClick={() => setZoom(z.value)}>
              {z.label}
            </button>
          ))}
        </div>
      </div>
      <div className="panes">
        {[
          { src: before, label: 'Original' },
          { src: after, label: 'Result' },
        ].map((pane, index) => (
          <figure key={pane.label} className="pane">
            <figcaption>{pane.label}</figcaption>
            <div
              className={`pane-viewport${zoom === 'fit' ? ' is-fit' : ''}`}
              ref={panes[index]}
              onScroll={() => onScroll(index)}
              tabIndex={0}
              aria-label={`${pane.label}, scrollable when zoomed`}
              style={{ aspectRatio: zoom === 'fit' ? `${width} / ${height}` : undefined }}
            >
              <img src={pane.src} alt={pane.label} draggable={false} style={imageStyle} className={pixelated ? 'pixelated' : undefined} />
            </div>
          </figure>
        ))}
      </div>
    </div>
  );
}
