import type { ImageFileEntry } from '../../src/index.js';

/** A folder as the browser hands it over: its name and its files, each path relative to it ('3/a.png'). */
export interface PickedFolder {
  name: string;
  files: ImageFileEntry[];
}

const bytesOf = async (file: File) => new Uint8Array(await file.arrayBuffer());

/**
 * The files of an `<input type="file" webkitdirectory>`: each `webkitRelativePath` starts with the chosen folder's
 * name, which is taken off.
 */
export function pickedFolder(list: FileList): PickedFolder {
  const files = [...list];
  const name = files[0]?.webkitRelativePath.split('/')[0] ?? '';
  return {
    name,
    files: files.map((f) => ({
      path: f.webkitRelativePath ? f.webkitRelativePath.split('/').slice(1).join('/') : f.name,
      bytes: () => bytesOf(f),
    })),
  };
}

/**
 * The entries of a drop. Read them in the drop handler itself, before any await: the browser empties the
 * DataTransfer when the handler returns.
 */
export function droppedEntries(dt: DataTransfer): FileSystemEntry[] {
  return [...dt.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
}

/**
 * The files under dropped entries, walked through the directory readers. One dropped folder is the folder (its name
 * is taken off the paths, as the picker's is); several dropped entries (the digit folders themselves, say) are the
 * contents of an unnamed one.
 */
export async function droppedFolder(entries: readonly FileSystemEntry[]): Promise<PickedFolder> {
  const files: ImageFileEntry[] = [];
  for (const e of entries) await walk(e, files);
  const one = entries.length === 1 && entries[0].isDirectory ? entries[0].name : null;
  return {
    name: one ?? 'the dropped files',
    files: one === null ? files : files.map((f) => ({ ...f, path: f.path.split('/').slice(1).join('/') })),
  };
}

async function walk(entry: FileSystemEntry, out: ImageFileEntry[]): Promise<void> {
  if (entry.name.startsWith('.')) return; // hidden files and folders (.git, .DS_Store) are never images to teach
  const path = entry.fullPath.replace(/^\/+/, '');
  if (entry.isFile) {
    const f = entry as FileSystemFileEntry;
    out.push({ path, bytes: async () => bytesOf(await new Promise<File>((ok, no) => f.file(ok, no))) });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries gives a batch at a time (100 in Chromium) until an empty one
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((ok, no) => reader.readEntries(ok, no));
      if (!batch.length) break;
      for (const e of batch) await walk(e, out);
    }
  }
}
