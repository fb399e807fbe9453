import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GraftError } from '@graft/core';

/** The training state of an unfinished run (see `checkpoint.ts`). */
export const CHECKPOINT_FILE = 'checkpoint.bin';

/**
 * Files graft writes into the folders it creates (train, compare, demo). `--force` replaces a
 * folder only when it holds one of these, or nothing: an output path pointing at the user's
 * data by mistake must never be deleted.
 */
const RUN_MARKERS = [
  'run.log',
  CHECKPOINT_FILE,
  'graft.json',
  'metrics.json',
  'compare.json',
  'demo.json',
];

/**
 * A run's output folder: the model, metrics.json, the config actually used, a log and
 * report.html. Files are written to a temporary name and renamed, so an interrupted run never
 * leaves a half-written file under a final name; an existing run is never overwritten unless
 * the user says `--force`; a run that fails removes the folder it created, so what is left
 * on disk is either a finished run or an interrupted one with a checkpoint to resume from.
 */
export interface RunDirectory {
  readonly path: string;
  /** True when this run continues an interrupted one in the same folder. */
  readonly resumed: boolean;
  /** Writes `name` atomically (temp file + rename). */
  write(name: string, content: string | Uint8Array): Promise<string>;
  writeJson(name: string, value: unknown): Promise<string>;
  /** Appends a line to run.log (synchronously, so the log survives a crash). */
  log(line: string): void;
  /** Removes a file of the run, if there. */
  remove(name: string): Promise<void>;
  /**
   * The run failed: removes the folder when this run created it (a resumed run keeps its
   * checkpoint) and puts back the run `--force` was replacing. Returns where the log was kept,
   * outside the removed folder.
   */
  discard(): Promise<string | undefined>;
  /** `discard`, synchronously: for a signal handler about to exit the process. */
  discardSync(): string | undefined;
  /**
   * The run is complete (or interrupted with a checkpoint): the run `--force` replaced is
   * deleted now, not before, so a failed replacement loses nothing.
   */
  finish(): Promise<void>;
}

export interface RunDirectoryOptions {
  /** Replace an existing folder. */
  force: boolean;
  /** Continue the interrupted run in the folder: it must hold a checkpoint. */
  resume?: boolean;
}

export async function createRunDirectory(
  path: string,
  options: RunDirectoryOptions,
): Promise<RunDirectory> {
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  const interrupted = exists && (await isFile(join(path, CHECKPOINT_FILE)));
  if (options.resume) {
    if (!interrupted) {
      throw new GraftError(
        'CHECKPOINT_NOT_FOUND',
        exists
          ? `There is no ${CHECKPOINT_FILE} to resume from in the run directory`
          : 'The run directory to resume does not exist',
        {
          where: path,
          hint: exists
            ? 'The run finished, or never reached its first checkpoint; start it again with --force.'
            : 'Resume with the same config (and --set / --output flags) the run was started with.',
        },
      );
    }
  } else if (exists && !options.force) {
    throw new GraftError('RUN_DIR_EXISTS', 'The run directory already exists', {
      where: path,
      hint: interrupted
        ? 'It holds an interrupted run: add --resume to continue it, or --force to start again.'
        : 'Choose another output, or pass --force to replace it.',
    });
  }
  const created = !exists || !options.resume;
  if (exists && !options.resume && !(await isRunFolder(path))) {
    throw new GraftError('RUN_DIR_EXISTS', 'The output exists and is not a graft run folder', {
      where: path,
      hint: '--force replaces only a folder graft wrote (holding run.log, metrics.json, ...); choose another output.',
    });
  }
  // The run being replaced is moved aside, not deleted, until this one finishes.
  let replaced: string | undefined;
  try {
    if (exists && !options.resume) {
      replaced = `${path}.replaced-${process.pid}-${Date.now()}`;
      await rename(path, replaced);
    }
    await mkdir(path, { recursive: true });
    await access(path, 2 /* W_OK */);
  } catch (cause) {
    if (created) await rm(path, { recursive: true, force: true }).catch(() => undefined);
    if (replaced) await rename(replaced, path).catch(() => undefined);
    throw new GraftError('OUTPUT_UNWRITABLE', 'Cannot create the run directory', {
      where: path,
      hint: 'Check the permissions of its parent folder, or choose another output.',
      cause,
    });
  }
  const logPath = join(path, 'run.log');
  const write = async (name: string, content: string | Uint8Array) => {
    const target = join(path, name);
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      // Flushed before the rename: after a power cut the final name holds the whole file.
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(content);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, target);
    } catch (cause) {
      await rm(tmp, { force: true });
      throw new GraftError('OUTPUT_UNWRITABLE', `Cannot write ${name}`, { where: target, cause });
    }
    return target;
  };
  // Synchronous, so that a signal handler can call it just before the process exits.
  const discardNow = (): string | undefined => {
    if (!created) return logPath;
    let kept: string | undefined;
    if (isFileSync(logPath)) {
      try {
        kept = join(mkdtempSync(join(tmpdir(), `graft-failed-${basename(path)}-`)), 'run.log');
        copyFileSync(logPath, kept);
      } catch {
        kept = undefined;
      }
    }
    rmSync(path, { recursive: true, force: true });
    if (replaced) {
      renameSync(replaced, path);
      replaced = undefined;
    }
    return kept;
  };
  return {
    path,
    resumed: Boolean(options.resume),
    write,
    writeJson: (name, value) => write(name, `${JSON.stringify(value, null, 2)}\n`),
    log: (line) => appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`),
    remove: (name) => rm(join(path, name), { force: true }),
    async discard() {
      return discardNow();
    },
    discardSync: () => discardNow(),
    async finish() {
      if (replaced) await rm(replaced, { recursive: true, force: true });
      replaced = undefined;
    },
  };
}

function isFileSync(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A folder graft wrote (see RUN_MARKERS), or an empty one. */
async function isRunFolder(path: string): Promise<boolean> {
  const entries = await readdir(path).catch(() => undefined);
  if (entries === undefined) return false; // a file, or unreadable
  return entries.length === 0 || entries.some((e) => RUN_MARKERS.includes(e));
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
