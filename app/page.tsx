import { connection } from 'next/server';
import { inferenceService } from '@/lib/server/inference';
import { formatBytes, formatPixels, serverLimits } from '@/lib/server/limits';
import { toolOptions, type ToolOption } from '@/lib/server/tools';
import { queueHelp } from '@/lib/ui/wording';
import { ImageTool } from './components/ImageTool';

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

  const translate = tools.some((t) => t.task === 'translate');

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
              it adds muted tones (blue skies and green grass where it recognises them) rather than vivid colour, and
              nothing it adds is historically accurate. <em>Colour strength</em> above 1 makes its colours bolder,
              the wrong guesses too; 1 is its most faithful result.
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
          {translate && (
            <div>
              <h3>Translate (your models)</h3>
              <p>
                Runs a model you trained on pairs of images, such as photos and their maps: a folder with the A images in{' '}
                <code>A/</code> and their B counterparts, under the same names, in <code>B/</code>.
              </p>
              <pre className="code">
                <code>npm run train -- --task paired --data &lt;folder&gt; --export &lt;name&gt;</code>
              </pre>
              <p>
                Choose the model under the tool: each does the one translation it learnt. The whole photo is processed at its
                own size (very large ones in overlapping tiles), so the result has the same size.
              </p>
            </div>
          )}
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
