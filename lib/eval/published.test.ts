import { describe, expect, it } from 'vitest';
import { publishedFor } from './published';

describe('publishedFor', () => {
  it('finds the tables for whole standard sets by folder name, at either scale', () => {
    expect(publishedFor('/data/bench/Set5/', 4, 5)?.[0]).toEqual({ method: 'bicubic', psnr: 28.42 });
    expect(publishedFor('bench\\set14', 2, 14)?.map((p) => p.method)).toEqual(['bicubic', 'SRCNN', 'EDSR']);
  });

  it('gives nothing for partial runs or other folders', () => {
    expect(publishedFor('/data/bench/Set5', 4, 3)).toBeUndefined();
    expect(publishedFor('/data/photos', 4, 5)).toBeUndefined();
    expect(publishedFor('/data/Set5', 3, 5)).toBeUndefined();
  });
});
