'use client';

/**
 * The interactive part of the home page: choose a photo (picker, drag and drop, paste), choose a tool,
 * run it as a background job with progress and cancel, then compare and download the result.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { CompareSlider, displayWidth } from './CompareSlider';
import { SideBySide } from './SideBySide';
import type { InferenceResult } from '@/lib/infer/types';
import type { ToolOption } from '@/lib/server/tools';
import { pastedFileName } from '@/lib/ui/files';
import { formatBytes } from '@/lib/ui/format';
import { progressAnnouncement, progressCounter, progressLine, progressStartAnnouncement, progressValueText } from '@/lib/ui/progress';

interface Props {
  tools: ToolOption[];
  /** Why nothing can run, when that is the case. */
  unavailable?: string;
  backend?: string;
  limits: { maxUploadBytes: number; maxUploadLabel: string; maxInputPixelsLabel: string };
}

/** The job as `GET /api/jobs/:id` reports it (the fields this page reads). */
interface JobView {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  queuePosition?: number;
  progress?: { done: number; total: number; elapsedMs: number };
  elapsedMs: number;
  fileName: string;
  /** The service's result details (the PNG itself is fetched separately). */
  result?: Omit<InferenceResult, 'png'> & { fileName: string };
  error?: { error: string; message: string; status: number };
}

interface Source {
  file: File;
  url: string;
  width?: number;
  height?: number;
  /** The browser could not show it (maybe not an image; the server has the last word). */
  noPreview?: boolean;
}

interface Result {
  url: string;
  fileName: string;
  tool: ToolOption;
  /** Colorizing: the colour strength it was made with. */
  strength: number;
  width: number;
  height: number;
  inputWidth: number;
  inputHeight: number;
  model: string;
  backend: string;
  ms: number;
}

type Phase = 'idle' | 'uploading' | 'queued' | 'running' | 'fetching';

/** One press of the run button, from upload to result. */
interface Run {
  /**
   * Aborted by Cancel or by leaving the page: stops polling and fetching the result; the page
   * already shows it, the run only tidies up on the server.
   */
  controller: AbortController;
  /** Known once the server has answered the upload. */
  jobId: string | null;
}

const CANCELLED_NOTICE = 'Cancelled. Choose a tool and run it again whenever you like.';

/** Asks the server to stop a job; a failure only means there is nothing left to stop. */
function deleteJob(id: string, keepalive = false): void {
  void fetch(`/api/jobs/${id}`, { method: 'DELETE', keepalive }).catch(() => undefined);
}

const POLL_MS = 300;
/**
 * Progress is read out at each quarter of the tiles (translating: of its steps), and at least this
 * often in a long stretch between quarters (an eight-way "extra quality" run of a big photo takes
 * minutes per quarter). Every tile would bury everything else a screen reader has to say.
 */
const PROGRESS_SPEAK_MS = 15_000;

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/**
 * What a tool made, for names and announcements: "Colorized", "Upscaled ×2", "Colorized (vivid)",
 * "Translated (maps)" (a translation is only known by its model).
 */
function resultKind(tool: ToolOption, model: string, strength: number): string {
  if (tool.task === 'translate') return `Translated (${model})`;
  const kind = tool.scale ? `Upscaled ×${tool.scale}` : 'Colorized';
  const details = [tool.variant, tool.task === 'colorize' && strength !== 1 ? `colour strength ${strength}` : undefined].filter(Boolean);
  return details.length > 0 ? `${kind} (${details.join(', ')})` : kind;
}

/** The colour strengths the slider offers (the API takes 0-2; below 0.5 is hardly colour at all). */
const STRENGTH_SLIDER = { min: 0.5, max: 2, step: 0.1 } as const;

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not our JSON error shape (e.g. a proxy's HTML page).
  }
  return `The server answered ${response.status} ${response.statusText}.`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

export function ImageTool({ tools, unavailable, backend, limits }: Props) {
  const [source, setSource] = useState<Source | null>(null);
  const [toolId, setToolId] = useState<string | undefined>(tools[0]?.id);
  // The paired model the Translate tool runs; kept while other tools are chosen.
  const [pairedModel, setPairedModel] = useState<string | undefined>(() => tools.find((t) => t.task === 'translate')?.models?.[0]?.name);
  const [phase, setPhase] = useState<Phase>('idle');
  const [job, setJob] = useState<JobView | null>(null);
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<{ title: string; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [ensemble, setEnsemble] = useState(false);
  const [strength, setStrength] = useState(1);
  const [dragging, setDragging] = useState(false);
  const [view, setView] = useState<'compare' | 'side'>('compare');
  // What the status region says. Each message is a new node (the key), so that a repeated message,
  // such as the same photo chosen twice, is read out again.
  const [announcement, setAnnouncement] = useState<{ text: string; key: number } | null>(null);
  const announce = useCallback((text: string) => setAnnouncement((last) => ({ text, key: (last?.key ?? 0) + 1 })), []);
  // Set once React has hydrated and the listeners are attached (tests wait for it).
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);

  const inputId = useId();
  const strengthId = useId();
  const limitsHintId = `${inputId}-limits`;
  const runHintId = `${inputId}-run-hint`;
  const fileInput = useRef<HTMLInputElement>(null);
  const currentRun = useRef<Run | null>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const errorBox = useRef<HTMLDivElement>(null);
  const runButton = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);

  const tool = tools.find((t) => t.id === toolId);
  const translateModel = tool?.task === 'translate' ? (tool.models?.find((m) => m.name === pairedModel) ?? tool.models?.[0]) : undefined;
  // The run button names what will run: for translating, the chosen model, since each is another translation.
  const runLabel = tool ? (translateModel ? `Translate with ${translateModel.name}` : tool.label) : undefined;
  const busy = phase !== 'idle';

  // Object URLs hold the image in memory until revoked; revoke each once it is replaced.
  const sourceUrl = source?.url;
  const resultUrl = result?.url;
  useEffect(() => () => void (sourceUrl && URL.revokeObjectURL(sourceUrl)), [sourceUrl]);
  useEffect(() => () => void (resultUrl && URL.revokeObjectURL(resultUrl)), [resultUrl]);

  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(timer);
  }, [busy]);

  useEffect(() => {
    if (result) resultHeading.current?.focus();
  }, [result]);
  useEffect(() => {
    if (error) errorBox.current?.focus();
  }, [error]);
  // Starting disables the run button and finishing removes Cancel, which drops keyboard focus to the
  // page: keep it on the controls (after the result and error effects, which move it themselves).
  const wasBusy = useRef(false);
  useEffect(() => {
    if (busy === wasBusy.current) return;
    wasBusy.current = busy;
    const active = document.activeElement;
    const lost = !active || active === document.body;
    if (busy && (lost || active === runButton.current)) cancelButton.current?.focus();
    else if (!busy && lost) runButton.current?.focus();
  }, [busy]);

  const acceptFile = useCallback(
    (file: File | null | undefined) => {
      if (!file || busy) return;
      setError(null);
      setNotice(null);
      setResult(null);
      if (file.size > limits.maxUploadBytes) {
        setSource(null);
        setError({
          title: 'This file is too large',
          message: `${file.name} is ${formatBytes(file.size, limits.maxUploadBytes)}; the limit is ${limits.maxUploadLabel}. Try a smaller or more compressed copy.`,
        });
        return;
      }
      setSource({ file, url: URL.createObjectURL(file) });
    },
    [busy, limits.maxUploadBytes, limits.maxUploadLabel],
  );

  // Paste anywhere on the page, unless the user is typing in a text field.
  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const target = event.target;
      if (target instanceof Element && target.closest('input[type="text"], textarea, [contenteditable="true"]')) return;
      const item = [...(event.clipboardData?.items ?? [])].find((i) => i.kind === 'file');
      const file = item?.getAsFile();
      if (!file) return;
      event.preventDefault();
      acceptFile(file.name ? file : new File([file], pastedFileName(file.type), { type: file.type }));
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [acceptFile]);

  // A file dropped anywhere on the page is the user's photo too. Left to the browser it would open in
  // the tab, leaving the page and with it any running job, so the drop is always taken, even when busy
  // (acceptFile then ignores it, as the drop zone does).
  useEffect(() => {
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const onDragOver = (event: DragEvent) => {
      if (carriesFiles(event)) event.preventDefault();
    };
    const onDrop = (event: DragEvent) => {
      // Dropped on the drop zone: its own handler has taken the file already.
      if (event.defaultPrevented || !carriesFiles(event)) return;
      event.preventDefault();
      acceptFile(event.dataTransfer?.files[0]);
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
    };
  }, [acceptFile]);

  // Leaving the page cancels a running job so the server does not work for nobody: closing the tab or
  // going to another site (pagehide), or following a link within the app, which only unmounts this.
  useEffect(() => {
    const onLeave = () => {
      const current = currentRun.current;
      if (!current) return;
      // Before the job's id is known, the abort makes the answer to the upload stop the job.
      if (current.jobId) deleteJob(current.jobId, true);
      current.controller.abort();
    };
    window.addEventListener('pagehide', onLeave);
    return () => {
      window.removeEventListener('pagehide', onLeave);
      onLeave();
    };
  }, []);

  const run = async () => {
    if (!source || !tool || busy) return;
    const state: Run = { controller: new AbortController(), jobId: null };
    const { signal } = state.controller;
    currentRun.current = state;
    setError(null);
    setNotice(null);
    setResult(null);
    setJob(null);
    setPhase('uploading');
    setStartedAt(Date.now());
    setNow(Date.now());
    announce(`Uploading ${source.file.name}…`);
    let spokenQueue: string | undefined;
    let spokenProgress: { quarter: number; done: number; at: number } | undefined;
    const speak = (job: JobView) => {
      if (job.status === 'queued') {
        const text = job.queuePosition && job.queuePosition > 0 ? `Waiting for the server, position ${job.queuePosition} in line.` : 'Waiting for the server.';
        if (text !== spokenQueue) announce(text);
        spokenQueue = text;
        return;
      }
      // Running jobs report their tiles (translating: its model runs) once the work has started;
      // until then there is nothing to add.
      if (job.status !== 'running' || !job.progress) return;
      const at = Date.now();
      const { done, total } = job.progress;
      const quarter = total > 0 ? Math.floor((done / total) * 4) : 0;
      if (!spokenProgress) {
        announce(progressStartAnnouncement(tool.task, total));
        spokenProgress = { quarter, done, at };
        return;
      }
      // The last tile is followed at once by the result, which is announced itself.
      if (total === 0 || done >= total) return;
      if (quarter > spokenProgress.quarter || (done > spokenProgress.done && at - spokenProgress.at >= PROGRESS_SPEAK_MS)) {
        announce(progressAnnouncement(tool.task, job.progress));
        spokenProgress = { quarter, done, at };
      }
    };
    try {
      const form = new FormData();
      form.set('image', source.file, source.file.name || 'image.png');
      form.set('task', tool.task);
      if (tool.scale) form.set('scale', String(tool.scale));
      if (translateModel) form.set('model', translateModel.name);
      if (tool.variant) form.set('variant', tool.variant);
      if (tool.scale && ensemble) form.set('ensemble', 'true');
      const runStrength = tool.task === 'colorize' ? strength : 1;
      if (runStrength !== 1) form.set('strength', String(runStrength));
      // Not aborted by Cancel: once the upload has reached the server the job exists, and only this
      // answer says which job to stop. Aborting would leave it running for nobody.
      const created = await fetch('/api/jobs', { method: 'POST', body: form });
      if (signal.aborted) {
        if (created.ok) {
          const { id } = (await created.json()) as JobView;
          deleteJob(id);
        }
        return;
      }
      if (!created.ok) {
        const retry = created.headers.get('Retry-After');
        const message = await errorMessage(created);
        throw new ToolError(created.status === 503 ? 'The server is busy' : 'Could not process this image', retry ? `${message} (about ${retry} s)` : message);
      }
      let current = (await created.json()) as JobView;
      state.jobId = current.id;
      if (signal.aborted) return void deleteJob(current.id);
      setJob(current);
      while (current.status === 'queued' || current.status === 'running') {
        setPhase(current.status);
        speak(current);
        await sleep(POLL_MS, signal);
        const polled = await fetch(`/api/jobs/${current.id}`, { signal, cache: 'no-store' });
        if (!polled.ok) throw new ToolError('Lost track of the job', await errorMessage(polled));
        current = (await polled.json()) as JobView;
        if (signal.aborted) return;
        setJob(current);
      }
      if (current.status === 'cancelled') {
        setNotice(CANCELLED_NOTICE);
        announce(CANCELLED_NOTICE);
        return;
      }
      if (current.status === 'failed' || !current.result) {
        throw new ToolError('Could not process this image', current.error?.message ?? 'The job failed.');
      }
      setPhase('fetching');
      const response = await fetch(`/api/jobs/${current.id}/result`, { signal, cache: 'no-store' });
      if (!response.ok) throw new ToolError('Could not fetch the result', await errorMessage(response));
      const blob = await response.blob();
      if (signal.aborted) return;
      const details = current.result;
      setResult({
        url: URL.createObjectURL(blob),
        fileName: details.fileName,
        tool,
        strength: runStrength,
        width: details.width,
        height: details.height,
        inputWidth: details.inputWidth,
        inputHeight: details.inputHeight,
        model: details.model,
        backend: details.backend,
        ms: details.ms,
      });
      announce(`Done. ${resultKind(tool, details.model, runStrength)} ${source.file.name}: ${details.width} × ${details.height}, in ${formatSeconds(details.ms)}.`);
    } catch (caught) {
      // After Cancel (or leaving the page) the page has moved on: nothing here is news to the user.
      if (signal.aborted) return;
      if (caught instanceof ToolError) {
        setError({ title: caught.title, message: caught.message });
      } else {
        setError({ title: 'Something went wrong', message: 'The server could not be reached. Check your connection and try again.' });
      }
    } finally {
      // A cancelled run has handed the page back already, possibly to a newer run.
      if (currentRun.current === state) {
        currentRun.current = null;
        setPhase('idle');
        setJob(null);
      }
    }
  };

  // The page is free again at once; the run finishes tidying up on the server on its own.
  const cancel = () => {
    const state = currentRun.current;
    if (!state) return;
    if (state.jobId) deleteJob(state.jobId);
    state.controller.abort();
    currentRun.current = null;
    setPhase('idle');
    setJob(null);
    setNotice(CANCELLED_NOTICE);
    announce(CANCELLED_NOTICE);
  };

  const onDrop = (event: React.DragEvent) => {
    event.preventDefault();
    setDragging(false);
    acceptFile(event.dataTransfer.files[0]);
  };

  // Choosing a photo is what enables the run button: the announcement of the photo says so.
  const readyText = runLabel ? ` The ${runLabel} button is ready.` : '';
  const elapsed = startedAt ? now - startedAt : 0;
  const progress = job?.progress;
  // Worded for the tool that is running (the choice cannot change while busy).
  const progressTask = tool?.task ?? 'colorize';
  const percent = progress && progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : undefined;

  const originalName = source ? `Original: ${source.file.name}` : '';
  const resultName = result ? `${resultKind(result.tool, result.model, result.strength)} result, ${result.width} × ${result.height}` : '';

  if (unavailable || tools.length === 0) {
    return (
      <section className="card" aria-labelledby="unavailable-title">
        <h2 id="unavailable-title">The tools are not available</h2>
        <p>{unavailable ?? 'No models are installed on this server.'}</p>
      </section>
    );
  }

  return (
    <section className="tool card" aria-labelledby="tool-title" data-ready={ready ? 'true' : undefined}>
      <h2 id="tool-title" className="visually-hidden">
        Photo tool
      </h2>
      <div className="tool-grid">
        <div
          className={`dropzone${dragging ? ' is-dragging' : ''}${source ? ' has-image' : ''}`}
          onDragEnter={(e) => (e.preventDefault(), setDragging(true))}
          onDragOver={(e) => e.preventDefault()}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
          }}
          onDrop={onDrop}
        >
          {source ? (
            <figure className="source-preview">
              {source.noPreview ? (
                <div className="no-preview" role="img" aria-label="No preview">
                  No preview for this file
                </div>
              ) : (
                <img
                  src={source.url}
                  alt={`Your photo: ${source.file.name}`}
                  onLoad={(e) => {
                    const img = e.currentTarget;
                    setSource((s) => (s && s.url === img.src ? { ...s, width: img.naturalWidth, height: img.naturalHeight } : s));
                    if (img.src === source.url) {
                      announce(
                        `Photo loaded: ${source.file.name}, ${img.naturalWidth} × ${img.naturalHeight}, ${formatBytes(source.file.size, limits.maxUploadBytes)}.${readyText}`,
                      );
                    }
                  }}
                  onError={(e) => {
                    const src = e.currentTarget.src;
                    setSource((s) => (s && s.url === src ? { ...s, noPreview: true } : s));
                    if (src === source.url) {
                      announce(
                        `File chosen: ${source.file.name}, ${formatBytes(source.file.size, limits.maxUploadBytes)}. This browser cannot show it; the server may still read it.${readyText}`,
                      );
                    }
                  }}
                />
              )}
              <figcaption>
                <span className="file-name">{source.file.name}</span>
                <span className="muted">
                  {source.width && source.height ? `${source.width} × ${source.height} · ` : ''}
                  {formatBytes(source.file.size, limits.maxUploadBytes)}
                </span>
              </figcaption>
            </figure>
          ) : (
            <div className="dropzone-empty">
              <span className="dropzone-icon" aria-hidden="true" />
              <p className="dropzone-title">Drop a photo here</p>
              <p className="muted">or paste it, or</p>
            </div>
          )}
          <input
            ref={fileInput}
            id={inputId}
            className="visually-hidden file-input"
            type="file"
            accept="image/*"
            disabled={busy}
            aria-describedby={limitsHintId}
            onChange={(e) => {
              acceptFile(e.currentTarget.files?.[0]);
              e.currentTarget.value = '';
            }}
          />
          <label htmlFor={inputId} className={`button${source ? '' : ' primary'}${busy ? ' is-disabled' : ''}`}>
            {source ? 'Choose another photo' : 'Choose a photo'}
          </label>
          <p className="hint muted" id={limitsHintId}>
            JPEG, PNG, WebP and more · up to {limits.maxUploadLabel} and {limits.maxInputPixelsLabel}
          </p>
        </div>

        <div className="controls">
          <fieldset className="tool-options" disabled={busy}>
            <legend>Tool</legend>
            {tools.map((option, index) => {
              // The whole card is the click target, but the name is the tool's and the rest is its
              // description: a 150-character name would be read at every arrow key in the group.
              const optionId = `${inputId}-tool-${index}`;
              return (
                <label key={option.id} className={`tool-option${option.id === toolId ? ' is-selected' : ''}`}>
                  <input
                    type="radio"
                    name="tool"
                    value={option.id}
                    checked={option.id === toolId}
                    onChange={() => setToolId(option.id)}
                    aria-labelledby={`${optionId}-label`}
                    aria-describedby={`${optionId}-description`}
                  />
                  <span className="tool-option-text">
                    <span className="tool-option-label" id={`${optionId}-label`}>
                      {option.label}
                    </span>
                    <span className="tool-option-description" id={`${optionId}-description`}>
                      {option.description}
                    </span>
                  </span>
                </label>
              );
            })}
          </fieldset>
          {tool?.task === 'translate' && tool.models && (
            <fieldset className="tool-options model-options" disabled={busy}>
              <legend>Model</legend>
              {tool.models.map((model, index) => {
                // Named by the model's name, described by its metadata's description, as the tools are.
                const optionId = `${inputId}-model-${index}`;
                const selected = model.name === translateModel?.name;
                return (
                  <label key={model.name} className={`tool-option${selected ? ' is-selected' : ''}`}>
                    <input
                      type="radio"
                      name="paired-model"
                      value={model.name}
                      checked={selected}
                      onChange={() => setPairedModel(model.name)}
                      aria-labelledby={`${optionId}-label`}
                      aria-describedby={`${optionId}-description`}
                    />
                    <span className="tool-option-text">
                      <span className="tool-option-label model-name" id={`${optionId}-label`}>
                        {model.name}
                      </span>
                      <span className="tool-option-description" id={`${optionId}-description`}>
                        {model.description}
                      </span>
                    </span>
                  </label>
                );
              })}
            </fieldset>
          )}
          {tool?.task === 'colorize' && (
            <div className="range-option">
              <span>
                <label htmlFor={strengthId}>Colour strength</label>{' '}
                {/* The slider itself tells assistive technology its value; an <output> would be a second status region. */}
                <span className="range-value" aria-hidden="true">
                  {strength.toFixed(1)}
                </span>
              </span>
              <input
                id={strengthId}
                type="range"
                min={STRENGTH_SLIDER.min}
                max={STRENGTH_SLIDER.max}
                step={STRENGTH_SLIDER.step}
                value={strength}
                disabled={busy}
                aria-describedby={`${strengthId}-hint`}
                onChange={(e) => setStrength(Math.round(Number(e.currentTarget.value) * 10) / 10)}
              />
              <span className="muted small" id={`${strengthId}-hint`}>
                1 is the model&apos;s own, most faithful guess, muted where it is unsure; higher is bolder and more often wrong.
              </span>
            </div>
          )}
          {tool?.scale && (
            <label className="check-option">
              <input type="checkbox" checked={ensemble} disabled={busy} onChange={(e) => setEnsemble(e.currentTarget.checked)} />
              <span>
                Extra quality <span className="muted small">(averages 8 flipped and rotated runs; about 8× slower)</span>
              </span>
            </label>
          )}

          <div className="actions">
            {/*
             * Without a photo the button only looks and acts disabled: a disabled button is skipped by
             * Tab, and with it the hint that says what it needs. While working it is disabled outright.
             */}
            <button
              type="button"
              className="button primary large"
              ref={runButton}
              onClick={run}
              disabled={busy}
              aria-disabled={!source || !tool ? true : undefined}
              aria-describedby={source ? undefined : runHintId}
            >
              {busy ? 'Working…' : (runLabel ?? 'Run')}
            </button>
            {busy && (
              <button type="button" className="button" ref={cancelButton} onClick={cancel}>
                Cancel
              </button>
            )}
          </div>
          {!source && (
            <p className="muted small" id={runHintId}>
              Choose a photo first.
            </p>
          )}

          {/*
           * Always in the page, so that screen readers track it from the start and hear the first
           * message; it gets the loaded photo, the steps of a run and its end, in a few words each.
           * The visible progress below ticks too often to be read out.
           */}
          <p className="visually-hidden" role="status" data-testid="announcer">
            {announcement && <span key={announcement.key}>{announcement.text}</span>}
          </p>
          <div className="status">
            {busy && (
              <div className="progress-block">
                <p className="progress-text">
                  {phase === 'uploading' && 'Uploading…'}
                  {phase === 'queued' &&
                    (job?.queuePosition && job.queuePosition > 0
                      ? `Waiting for the server (position ${job.queuePosition} in line)…`
                      : 'Waiting for the server…')}
                  {phase === 'running' &&
                    (progress ? progressLine(progressTask, progress) : 'Processing…')}
                  {phase === 'fetching' && 'Almost done…'}
                  {/* A clock ticking every 200 ms is noise to a screen reader, which gets the progress bar. */}
                  <span className="muted" aria-hidden="true">
                    {' '}
                    · {formatSeconds(elapsed)}
                  </span>
                </p>
                <progress
                  className="progress"
                  max={100}
                  value={phase === 'fetching' ? 100 : percent}
                  aria-label="Progress"
                  aria-valuetext={progress ? progressValueText(progressTask, progress) : 'Starting'}
                />
                {/* The progress bar says the same to screen readers. */}
                {progress && (
                  <p className="muted small" data-testid="tiles" aria-hidden="true">
                    {progressCounter(progressTask, progress)}
                  </p>
                )}
              </div>
            )}
            {notice && !busy && <p className="notice">{notice}</p>}
          </div>
          {error && (
            <div className="alert" role="alert" tabIndex={-1} ref={errorBox}>
              <p className="alert-title">{error.title}</p>
              <p>{error.message}</p>
            </div>
          )}
          {backend && <p className="muted small backend-note">Running on the {backend} backend.</p>}
        </div>
      </div>

      {result && source && (
        <section className="result" aria-labelledby="result-title">
          <div className="result-header">
            <h2 id="result-title" tabIndex={-1} ref={resultHeading}>
              Result
            </h2>
            <div className="result-actions">
              {!source.noPreview && (
                <div className="segmented" role="group" aria-label="View">
                  <button type="button" aria-pressed={view === 'compare'} onClick={() => setView('compare')}>
                    Compare
                  </button>
                  <button type="button" aria-pressed={view === 'side'} onClick={() => setView('side')}>
                    Side by side
                  </button>
                </div>
              )}
              <a className="button primary" href={result.url} download={result.fileName}>
                Download PNG
              </a>
            </div>
          </div>

          {source.noPreview ? (
            // The browser cannot draw the original (e.g. TIFF), so there is nothing to compare with.
            <figure className="result-single">
              <img
                src={result.url}
                alt={resultName}
                draggable={false}
                style={{ width: displayWidth(result.width, result.height), aspectRatio: `${result.width} / ${result.height}` }}
              />
              <figcaption className="muted small">This browser cannot show the original file, so only the result is shown.</figcaption>
            </figure>
          ) : view === 'compare' ? (
            <CompareSlider
              before={source.url}
              after={result.url}
              beforeAlt={originalName}
              afterAlt={resultName}
              width={result.width}
              height={result.height}
            />
          ) : (
            <SideBySide
              before={source.url}
              after={result.url}
              beforeLabel={originalName}
              afterLabel={resultName}
              width={result.width}
              height={result.height}
            />
          )}

          <dl className="details" data-testid="result-details">
            <div>
              <dt>Tool</dt>
              <dd>{result.tool.label}</dd>
            </div>
            <div>
              <dt>Input</dt>
              <dd data-testid="input-size">
                {result.inputWidth} × {result.inputHeight}
              </dd>
            </div>
            <div>
              <dt>Output</dt>
              <dd data-testid="output-size">
                {result.width} × {result.height}
              </dd>
            </div>
            <div>
              <dt>Model</dt>
              <dd>{result.model}</dd>
            </div>
            <div>
              <dt>Backend</dt>
              <dd>{result.backend}</dd>
            </div>
            <div>
              <dt>Time</dt>
              <dd>{formatSeconds(result.ms)}</dd>
            </div>
            <div className="details-wide">
              <dt>File</dt>
              <dd className="file-name">{result.fileName}</dd>
            </div>
          </dl>
        </section>
      )}
    </section>
  );
}

class ToolError extends Error {
  constructor(
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}
