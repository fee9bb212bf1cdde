'use client';

/**
 * Original and result next to each other at the same display size, with zoom; scrolling one pane
 * scrolls the other so the same detail stays in view.
 */
import { useId, useRef, useState } from 'react';

interface Props {
  before: string;
  after: string;
  /** Captions, which also name the pictures ("Original: photo.jpg", "Colorized result, 640 × 480"). */
  beforeLabel: string;
  afterLabel: string;
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

export function SideBySide({ before, after, beforeLabel, afterLabel, width, height }: Props) {
  const [zoom, setZoom] = useState<Zoom>('fit');
  const panes = [useRef<HTMLDivElement>(null), useRef<HTMLDivElement>(null)];
  const syncing = useRef(false);
  const id = useId();
  const hintId = `${id}-hint`;

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
  const fit = zoom === 'fit';
  const imageStyle = fit ? { width: '100%' } : { width: `${width * Number(zoom)}px`, maxWidth: 'none' };
  const pixelated = !fit && zoom !== '1';

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
        {!fit && (
          <span className="muted small" id={hintId}>
            Scroll either picture, or focus it and use the arrow keys; the other one follows.
          </span>
        )}
      </div>
      <div className="panes">
        {[
          { src: before, label: beforeLabel },
          { src: after, label: afterLabel },
        ].map((pane, index) => {
          const captionId = `${id}-caption-${index}`;
          return (
            <figure key={index} className="pane">
              <figcaption id={captionId}>{pane.label}</figcaption>
              {/*
               * Zoomed, the pane scrolls, and a keyboard needs it as a tab stop to scroll it, named for
               * the picture it shows. Fitted there is nothing to scroll, so it is no stop at all.
               */}
              <div
                className={`pane-viewport${fit ? ' is-fit' : ''}`}
                ref={panes[index]}
                onScroll={() => onScroll(index)}
                role={fit ? undefined : 'group'}
                tabIndex={fit ? undefined : 0}
                aria-labelledby={fit ? undefined : captionId}
                aria-describedby={fit ? undefined : hintId}
                style={{ aspectRatio: fit ? `${width} / ${height}` : undefined }}
              >
                {/* Named by the figure's caption; an alt repeating it would be read twice. */}
                <img src={pane.src} alt="" draggable={false} style={imageStyle} className={pixelated ? 'pixelated' : undefined} />
              </div>
            </figure>
          );
        })}
      </div>
    </div>
  );
}
