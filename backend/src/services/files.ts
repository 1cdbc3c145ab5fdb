import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import yazl from 'yazl';
import { NotFoundError } from '../domain/errors.js';
import { getTaskByToken } from '../repositories/tasks.js';
import type { Actor, ServiceContext } from './context.js';
import type { Storage } from './storage.js';

export type Artifact =
  | { kind: 'file'; path: string; name: string; size: number; mtime: Date }
  | { kind: 'folder'; name: string; stream: Readable };

/** Finished files: a token names a task's artifact; the owner's session is required to fetch it. */
export class FilesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly storage: Storage,
  ) {}

  async artifact(actor: Actor, token: string): Promise<Artifact> {
    const row = /^[A-Za-z0-9_-]{16,128}$/.test(token)
      ? await getTaskByToken(this.ctx.db, actor.id, token)
      : undefined;
    const artifactPath = row?.status === 'complete' ? row.artifact_path : null;
    if (!artifactPath) throw new NotFoundError('File not found');
    const real = await this.storage.resolveInside(actor.id, artifactPath);
    const st = await fs.promises.stat(real);
    const name = path.basename(artifactPath);
    if (st.isFile()) return { kind: 'file', path: real, name, size: st.size, mtime: st.mtime };
    return { kind: 'folder', name: `${name}.zip`, stream: await this.zipFolder(actor.id, real) };
  }

  /** A folder as a zip stream (stored, no compression: downloads are usually compressed already). */
  private async zipFolder(userId: number, root: string): Promise<Readable> {
    const zip = new yazl.ZipFile();
    const base = path.basename(root);
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
        const abs = path.join(dir, entry.name);
        const name = path.posix.join(rel, entry.name);
        if (entry.isDirectory()) {
          zip.addEmptyDirectory(name);
          await walk(abs, name);
        } else if (entry.isFile()) {
          zip.addFile(abs, name, { compress: false });
        } else if (entry.isSymbolicLink()) {
          // A link is followed only when it stays inside the user's folder.
          const target = await this.storage
            .resolveInside(userId, path.relative(this.storage.userDir(userId), abs))
            .catch(() => null);
          const st = target ? await fs.promises.stat(target) : null;
          if (target && st?.isFile()) zip.addFile(target, name, { compress: false });
        }
      }
    };
    await walk(root, base);
    zip.end();
    const out = new PassThrough();
    zip.outputStream.pipe(out);
    return out;
  }
}
