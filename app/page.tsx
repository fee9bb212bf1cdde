import { connection } from 'next/server';
import type { ModelSummary } from '@/lib/infer/types';
import { inferenceService, modelFor, variantSchema } from '@/lib/server/inference';
import { formatBytes, formatPixels, serverLimits } from '@/lib/server/limits';
import { queueHelp } from '@/lib/ui/wording';
import { ImageTool, type ToolOption } from './components/ImageTool';

/** Installed variants of a task beyond its default model (e.g. a GAN-trained "sharp" upscaler, a "vivid" colorizer). */
function extraVariants(models: readonly ModelSummary[], fits: (m: ModelSummary) => boolean, chosen: ModelSummary): (ModelSummary & { variant: string })[] {
  return models.filter(
    (m): m is ModelSummary & { variant: string } =>
      fits(m) && m !== chosen && m.variant !== undefined && m.variant !== 'faithful' && variantSchema.safeParse(m.variant).success,
  );
}

const capitalised = (word: string) => `${word[0]!.toUpperCase()}${word.slice(1)}`;

/** The tools this server can offer, in a fixed order, from the loaded models. */
function toolOptions(models: readonly ModelSummary[]): ToolOption[] {
  const options: ToolOption[] = [];
  const colorize = modelFor(models, { task: 'colorize' });
  if (colorize) {
    options.push({
      id: 'colorize',
      label: 'Colorize',
      description: 'Adds plausible colour to a black-and-white photo. Same size out.',
      model: colorize.name,
    });
    for (const m of extraVariants(models, (x) => x.task === 'colorize', colorize)) {
      options.push({
        id: `colorize-${m.variant}`,
        label: `${capitalised(m.variant)} colorize`,
        description:
          m.variant === 'vivid'
            ? 'Bolder colour from a model that predicts colour classes; it commits to colours the plain Colorize leaves muted, and is wrong more visibly when it guesses wrong.'
            : `Colorize with the "${m.variant}" model.`,
        model: m.name,
        variant: m.variant,
      });
    }
  }
  for (const scale of [2, 4] as const) {
    const sr = modelFor(models, { task: 'upscale', scale });
    if (sr) {
      options.push({
        id: `x${scale}`,
        label: `Upscale ×${scale}`,
        description: `Makes a photo ${scale}× wider and taller with sharper detail than plain resizing.`,
        model: sr.name,
        scale,
      });
    }
    // Other variants (e.g. a GAN-trained "sharp" model) as extra tools, after the default one.
    for (const m of sr ? extraVariants(models, (x) => x.task === 'sr' && x.scale === scale, sr) : []) {
      options.push({
        id: `x${scale}-${m.variant}`,
        label: `${capitalised(m.variant)} upscale ×${scale}`,
        description:
          m.variant === 'sharp'
            ? `×${scale} with crisper texture from a GAN-trained model; it may invent fine detail, the plain ×${scale} is more faithful.`
            : `×${scale} with the "${m.variant}" model.`,
        model: m.name,
        scale,
        variant: m.variant,
      });
    }
  }
  return options;
}

export default async function HomePage() {
  await connection();
  const limits = serverLimits();
  let tools: ToolOption[] = [];
  let unavailable: string | undefined;
  let backend: string | undefined;
  try {
    const service = await inferenceService();
    tools = toolOptions(service.models);
    backend = service.backend;
    if (tools.length === 0) unavailable = 'No models are installed on this server, so there is nothing to run yet.';
  } catch {
    unavailable = 'The models could not be loaded on this server. The server log says why.';
  }

  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Bring old photos back to life</h1>
        <p className="lede">
          Colorize black-and-white photos or upscale small ones ×2 or ×4. Drop a photo, pick a tool, compare before and
          after, and download the result as a PNG.
        </p>
      </section>

      <ImageTool
        tools={tools}
        unavailable={unavailable}
        backend={backend}
        limits={{
          maxUploadBytes: limits.maxUploadBytes,
          maxUploadLabel: formatBytes(limits.maxUploadBytes),
          maxInputPixelsLabel: formatPixels(limits.maxInputPixels),
        }}
      />

      <section id="help" className="card help" aria-labelledby="help-title">
        <h2 id="help-title">Help</h2>
        <div className="help-grid">
          <div>
            <h3>Colorize</h3>
            <p>
              A pix2pix network trained on colour photos predicts the colour of each region from the brightness alone.
              Colour photos are turned grey first, so you can also re-colour a photo. The shipped model is cautious:
              it adds muted, mostly warm tones rather than vivid colour, and nothing it adds is historically accurate.
            </p>
          </div>
          <div>
            <h3>Upscale ×2 and ×4</h3>
            <p>
              A super-resolution network rebuilds detail while enlarging. It works best on photos that are small but not
              heavily compressed. Large images are processed in tiles, so progress is shown tile by tile and you can
              cancel at any time. <em>Extra quality</em> runs the network on eight flipped and rotated copies and
              averages them: slightly more faithful, about eight times slower.
            </p>
          </div>
          <div>
            <h3>Limits</h3>
            <ul>
              <li>Files up to {formatBytes(limits.maxUploadBytes)} (JPEG, PNG, WebP, GIF, AVIF, TIFF).</li>
              <li>Images up to {formatPixels(limits.maxInputPixels)}.</li>
              <li>Upscaled results up to {formatPixels(limits.maxOutputPixels)}.</li>
              <li>{queueHelp(limits.maxQueueLength)}</li>
            </ul>
          </div>
          <div>
            <h3>Train on your own photos</h3>
            <p>Put a few hundred of your photos in a folder and run, in the project folder:</p>
            <pre className="code">
              <code>npm run train -- --task colorize --data &lt;folder&gt;</code>
            </pre>
            <p>
              Training progress, loss curves and sample grids appear on the <a href="/training">Training</a> page. The
              README explains how to export the trained model for this app.
            </p>
          </div>
        </div>
        <h3 className="shortcuts-title">Keyboard</h3>
        <p>
          Paste an image with <kbd>Ctrl</kbd>+<kbd>V</kbd> (<kbd>⌘</kbd>+<kbd>V</kbd> on a Mac) anywhere on the page. In the
          comparison, focus the divider and use the arrow keys to move it.
        </p>
      </section>
    </>
  );
}
