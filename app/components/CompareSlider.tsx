'use client';

/**
 * Before/after comparison: the result is drawn over the original and clipped at a divider that the
 * pointer drags and the arrow keys move (a native range input does both, accessibly).
 */
import { useState } from 'react';

interface Props {
  before: string;
  after: string;
  /** Text alternatives: which photo each is ("Original: photo.jpg", "Colorized result, 640 × 480"). */
  beforeAlt: string;
  afterAlt: string;
  /** The result's size; the frame takes its shape, and the original is fitted the same way so the two line up. */
  width: number;
  height: number;
}

/**
 * The frame never gets smaller than this (CSS px), whatever the image's shape: a 3000 × 2 strip would
 * otherwise make a frame under a pixel tall, with a divider nobody can grab and the knob and tags
 * spilling out. The image is letterboxed inside instead (object-fit: contain in the CSS).
 */
const MIN_FRAME = { width: 240, height: 160 } as const;

/**
 * Display width of an image `width` × `height`: small results enlarged up to 720 px, never wider than
 * the column or taller than 70 % of the screen, and never narrower than {@link MIN_FRAME}.
 */
export function displayWidth(width: number, height: number): string {
  const fitted = `min(100%, ${Math.max(width, 720)}px, calc(70vh * ${(width / height).toFixed(6)}))`;
  return `max(min(100%, ${MIN_FRAME.width}px), ${fitted})`;
}

export function CompareSlider({ before, after, beforeAlt, afterAlt, width, height }: Props) {
  const [position, setPosition] = useState(50);
  return (
    <div
      className="compare"
      style={{
        aspectRatio: `${width} / ${height}`,
        width: displayWidth(width, height),
        minHeight: `min(${MIN_FRAME.height}px, 70vh)`,
      }}
    >
      <img className="compare-image" src={before} alt={beforeAlt} draggable={false} />
      <img
        className="compare-image compare-after"
        src={after}
        alt={afterAlt}
        draggable={false}
        style={{ clipPath: `inset(0 0 0 ${position}%)` }}
      />
      <div className="compare-divider" style={{ left: `${position}%` }} aria-hidden="true">
        <span className="compare-knob" />
      </div>
      <span className="compare-tag compare-tag-before" aria-hidden="true">
        Before
      </span>
      <span className="compare-tag compare-tag-after" aria-hidden="true">
        After
      </span>
      <input
        className="compare-range"
        type="range"
        min={0}
        max={100}
        step={1}
        value={position}
        onChange={(e) => setPosition(Number(e.currentTarget.value))}
        aria-label="Divider between original (left) and result (right)"
        aria-valuetext={`${position}% original`}
      />
    </div>
  );
}
