'use client';

/**
 * Before/after comparison: the result is drawn over the original and clipped at a divider that the
 * pointer drags and the arrow keys move (a native range input does both, accessibly).
 */
import { useState } from 'react';

interface Props {
  before: string;
  after: string;
  /** The result's size; the original is stretched to it so that the two line up. */
  width: number;
  height: number;
}

export function CompareSlider({ before, after, width, height }: Props) {
  const [position, setPosition] = useState(50);
  return (
    <div
      className="compare"
      style={{
        aspectRatio: `${width} / ${height}`,
        // Small results are shown enlarged (up to 720 px wide) but never taller than most of the screen.
        width: `min(100%, ${Math.max(width, 720)}px, calc(70vh * ${(width / height).toFixed(4)}))`,
      }}
    >
      <img className="compare-image" src={before} alt="Original" draggable={false} />
      <img
        className="compare-image compare-after"
        src={after}
        alt="Result"
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
