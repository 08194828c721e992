//! Streaming, gzip-aware reading of text files, with line numbers for errors.
//!
//! Whether a file is gzip is decided by its first two bytes, not its name, so
//! `items.jsonl` and `items.jsonl.gz` both work. Concatenated gzip members are
//! read as one stream (as `zcat` does).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, FileErrors, Result};

/// Receives progress while files are read. The CLI draws a bar from it; the
/// library itself never prints.
pub trait Progress: Send + Sync {
    /// A file of `total_bytes` (on disk) starts being read; several may be
    /// read at once, so sinks should add the bytes to their total.
    fn begin(&self, _label: &str, _total_bytes: u64) {}
    /// `bytes` more bytes of the file on disk were consumed.
    fn advance(&self, _bytes: u64) {}
    /// All files are done.
    fn end(&self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}

/// Shared handle to a progress sink.
pub type ProgressHandle = Arc<dyn Progress>;

/// A silent progress handle.
pub fn silent() -> ProgressHandle {
    Arc::new(Silent)
}

struct Counting<R> {
    inner: R,
    progress: ProgressHandle,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Decompresses on a background thread, one block ahead of the parser, so
/// that inflating and parsing use two cores.
struct Prefetch {
    blocks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

const BLOCK: usize = 1 << 18;

impl Prefetch {
    fn spawn<R: Read + Send + 'static>(mut inner: R) -> Self {
        let (tx, rx) = mpsc::sync_channel(4);
        std::thread::spawn(move || {
            loop {
                let mut block = vec![0u8; BLOCK];
                let mut filled = 0;
                while filled < BLOCK {
                    match inner.read(&mut block[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            block.truncate(filled);
                            // The reader may be gone; then nobody needs the data.
                            let _ = tx.send(Ok(block));
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                if filled == 0 {
                    return;
                }
                block.truncate(filled);
                if tx.send(Ok(block)).is_err() {
                    return;
                }
            }
        });
        Prefetch {
            blocks: rx,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.current.len() {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    self.current = block;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The decoder thread finished: end of stream.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.current.len());
    }
}

/// An opened input file: plain or gzip, decoded lazily.
pub struct Input {
    path: PathBuf,
    gzip: bool,
    reader: Box<dyn BufRead + Send>,
}

impl Input {
    /// Opens `path`, sniffing gzip from its first bytes.
    pub fn open(path: &Path, progress: &ProgressHandle) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        progress.begin(&path.display().to_string(), len);
        let counting = Counting {
            inner: file,
            progress: progress.clone(),
        };
        let mut raw = BufReader::with_capacity(1 << 16, counting);
        let head = raw.fill_buf().map_err(|e| Error::io(path, e))?;
        let gzip = head.starts_with(&GZIP_MAGIC);
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(Prefetch::spawn(MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(Input {
            path: path.to_path_buf(),
            gzip,
            reader,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The first decoded bytes, without consuming them (to sniff a format).
    pub fn peek(&mut self) -> Result<&[u8]> {
        let (path, gzip) = (&self.path, self.gzip);
        self.reader
            .fill_buf()
            .map_err(|e| read_error(path, gzip, 0, e))
    }

    /// Calls `f(line_number, line)` for every line, without its terminator
    /// (`\n` or `\r\n`). A line that is not UTF-8 is an error naming it; an
    /// error from `f` stops the reading and is returned. Returns the number
    /// of lines.
    pub fn for_each_line(self, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<u64> {
        self.for_each_chunk(|first, chunk| {
            for (i, text) in chunk.split('\n').enumerate() {
                f(first + i as u64, text.strip_suffix('\r').unwrap_or(text))?;
            }
            Ok(())
        })
    }

    /// Calls `f(first_line_number, chunk)` with runs of whole lines joined by
    /// `\n` (no trailing terminator; lines may end in `\r`). Lines are found
    /// block by block and each block is checked for UTF-8 once, so this is
    /// the fast way through a large file. A line that is not UTF-8 is an
    /// error naming it. Returns the number of lines.
    pub fn for_each_chunk(mut self, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<u64> {
        let mut carry: Vec<u8> = Vec::new();
        let mut line = 0u64;
        let path = self.path.clone();
        let one_line = |line: u64, bytes: &[u8], f: &mut dyn FnMut(u64, &str) -> Result<()>| {
            let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(&path, line, e))?;
            f(line, text)
        };
        loop {
            let block = match self.reader.fill_buf() {
                Ok(block) => block,
                Err(e) => return Err(read_error(&self.path, self.gzip, line, e)),
            };
            if block.is_empty() {
                break;
            }
            let len = block.len();
            let Some(last) = memchr::memrchr(b'\n', block) else {
                carry.extend_from_slice(block);
                self.reader.consume(len);
                continue;
            };
            let mut start = 0;
            if !carry.is_empty() {
                let first = memchr::memchr(b'\n', block).unwrap_or(last);
                carry.extend_from_slice(&block[..first]);
                line += 1;
                one_line(line, &carry, &mut f)?;
                carry.clear();
                start = first + 1;
            }
            if start <= last {
                let chunk = &block[start..last];
                match std::str::from_utf8(chunk) {
                    Ok(text) => {
                        f(line + 1, text)?;
                        line += 1 + memchr::memchr_iter(b'\n', chunk).count() as u64;
                    }
                    // Some line is not UTF-8: go line by line to name it.
                    Err(_) => {
                        for bytes in chunk.split(|&b| b == b'\n') {
                            line += 1;
                            one_line(line, bytes, &mut f)?;
                        }
                    }
                }
            }
            carry.extend_from_slice(&block[last + 1..]);
            self.reader.consume(len);
        }
        if !carry.is_empty() {
            line += 1;
            one_line(line, &carry, &mut f)?;
        }
        Ok(line)
    }

    /// The decoded byte stream (for the CSV reader).
    pub fn into_reader(self) -> (PathBuf, bool, Box<dyn BufRead + Send>) {
        (self.path, self.gzip, self.reader)
    }
}

/// A failed read of `path` after `line` complete lines: a gzip error when the
/// file is gzip (a truncated or corrupt stream), else an I/O error.
pub fn read_error(path: &Path, gzip: bool, line: u64, source: io::Error) -> Error {
    if gzip {
        Error::Gzip {
            path: path.to_path_buf(),
            line,
            source,
        }
    } else {
        Error::io(path, source)
    }
}

fn not_utf8(path: &Path, line: u64, e: std::str::Utf8Error) -> Error {
    Error::line(
        path,
        line,
        format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
    )
}
