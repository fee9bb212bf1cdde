import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderModelCard } from './card';
import { parseMetadata, type ModelMetadata } from './metadata';

const shipped = parseMetadata(JSON.parse(readFileSync('models/sr-x4/metadata.json', 'utf8')), 'models/sr-x4/metadata.json');

function withConfig(patch: Record<string, unknown>): ModelMetadata {
  return { ...shipped, training: { ...shipped.training, config: { ...shipped.training.config, ...patch } } };
}

describe('model card', () => {
  it('states the loss from the training config: L1 only, or cGAN + L1', () => {
    expect(renderModelCard({ metadata: withConfig({ gan: { mode: 'none', lambdaL1: 100 } }), evaluations: [], samples: [] })).toContain('| loss | L1 (no GAN: the faithful model) |');
    const gan = renderModelCard({ metadata: withConfig({ gan: { mode: 'vanilla', lambdaL1: 10 } }), evaluations: [], samples: [] });
    expect(gan).toContain('| loss | cGAN ("vanilla") + 10 x L1 |');
    const luma = renderModelCard({ metadata: withConfig({ gan: { mode: 'none', lambdaL1: 100, pixelLoss: 'l1-luma' } }), evaluations: [], samples: [] });
    expect(luma).toContain('| loss | L1 on BT.601 luma + 1/4 on each chroma channel (`l1-luma`) (no GAN: the faithful model) |');
    const classes = renderModelCard({ metadata: withConfig({ gan: { mode: 'none', lambdaL1: 100, pixelLoss: 'ab-classes', classRebalance: 0.5 } }), evaluations: [], samples: [] });
    expect(classes).toContain('| loss | class-rebalanced cross-entropy over a*b* bins (`ab-classes`, Zhang et al. 2016), rebalancing lambda 0.5 (no GAN) |');
    const l2 = renderModelCard({ metadata: withConfig({ gan: { mode: 'none', lambdaL1: 100, pixelLoss: 'l2' } }), evaluations: [], samples: [] });
    expect(l2).toContain('| loss | mean squared error (no GAN: the faithful model) |');
  });

  it('says when a model was fine-tuned from another', () => {
    const plain = renderModelCard({ metadata: withConfig({ initFrom: null }), evaluations: [], samples: [] });
    expect(plain).not.toContain('started from');
    const tuned = renderModelCard({ metadata: withConfig({ initFrom: '/somewhere/models/sr-x4' }), evaluations: [], samples: [] });
    expect(tuned).toContain('| started from | the weights of `sr-x4` (`--init-from`; steps and wall time are this run\'s only) |');
  });

  it('says why there are no validation metrics when the run held nothing out', () => {
    const none = renderModelCard({ metadata: { ...withConfig({ valFraction: 0 }), metrics: {} }, evaluations: [], samples: [] });
    expect(none).toContain('Validation metrics at export (held-out photos): none (this run held no photos out).');
    const held = renderModelCard({ metadata: { ...withConfig({ valFraction: 0.1 }), metrics: { val_psnr: 30 } }, evaluations: [], samples: [] });
    expect(held).toContain('Validation metrics at export (held-out photos): val_psnr 30.000.');
  });

  it('says when the weights are a mean of several models', () => {
    const averaged = renderModelCard({
      metadata: { ...shipped, averagedFrom: [{ name: 'a', steps: 10, weight: 0.75 }, { name: 'b', steps: 20, weight: 0.25 }] },
      evaluations: [],
      samples: [],
    });
    expect(averaged).toContain('| weights | the mean of `a` (10 steps, weight 0.75), `b` (20 steps, weight 0.25) (`npm run average`)');
    expect(renderModelCard({ metadata: shipped, evaluations: [], samples: [] })).not.toContain('| weights |');
  });
});
