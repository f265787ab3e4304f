/**
 * A minimal POSIX ustar writer: what the engine's archive upload (`PUT /containers/{id}/archive`)
 * and build context (`POST /build`) take. Regular files and directories only, with mode and owner.
 */

export interface TarEntry {
  /** Path inside the archive, without a leading `/` (it is stripped). */
  path: string;
  /** File content; a directory has none. */
  content?: Buffer;
  type?: "file" | "directory";
  /** @default 0o644 for files, 0o755 for directories */
  mode?: number;
  /** @default 0 */
  uid?: number;
  /** @default 0 */
  gid?: number;
}

const BLOCK = 512;
/** A fixed mtime keeps archives byte-identical for identical entries. */
const MTIME = 0;

export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === "directory" ? Buffer.alloc(0) : (entry.content ?? Buffer.alloc(0));
    parts.push(header(entry, content.length));
    if (content.length > 0) {
      parts.push(content);
      const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (padding > 0) parts.push(Buffer.alloc(padding));
    }
  }
  // The end of an archive: two zero blocks.
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function header(entry: TarEntry, size: number): Buffer {
  const isDirectory = entry.type === "directory";
  let path = entry.path.replace(/^\/+/, "");
  if (isDirectory && !path.endsWith("/")) path += "/";
  const { name, prefix } = splitPath(path);
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  writeOctal(block, entry.mode ?? (isDirectory ? 0o755 : 0o644), 100, 8);
  writeOctal(block, entry.uid ?? 0, 108, 8);
  writeOctal(block, entry.gid ?? 0, 116, 8);
  writeOctal(block, size, 124, 12);
  writeOctal(block, MTIME, 136, 12);
  // The checksum is computed with its own field filled with spaces.
  block.fill(" ", 148, 156);
  block.write(isDirectory ? "5" : "0", 156, 1, "latin1");
  block.write("ustar\u000000", 257, 8, "latin1");
  block.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return block;
}

/** ustar keeps 100 bytes of name and 155 of prefix, split at a `/`. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  const text = value.toString(8);
  if (text.length > length - 1) throw new Error(`tar: ${value} does not fit a ${length}-byte field`);
  block.write(`${text.padStart(length - 1, "0")}\u0000`, offset, length, "latin1");
}
