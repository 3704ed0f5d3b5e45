//! The file under the log: the few operations the log needs, so that the
//! same log code runs on a real file and on the simulated disk of the
//! deterministic simulation (`sim`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// What the log does with its file. Appends go to the end; nothing is
/// durable until [`LogFile::sync`] returns.
pub trait LogFile {
    /// The file's length.
    fn len(&self) -> io::Result<u64>;
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at the end of
    /// the file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// Appends `data` at the end (one write).
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Makes everything appended so far durable (`fdatasync`).
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes and makes the cut durable.
    fn truncate(&mut self, len: u64) -> io::Result<()>;

    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let n = self.read_at(&mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the log ends inside a record"));
            }
            done += n;
        }
        Ok(())
    }
}

impl LogFile for File {
    fn len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        FileExt::read_at(self, buf, offset)
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        // The file is opened in append mode: every write lands at the end.
        io::Write::write_all(self, data)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)?;
        self.sync_all()
    }
}

/// Reads a log file front to back through a buffer, so that a log of any
/// size is scanned in constant memory.
pub(crate) struct Cursor<'f, F: LogFile + ?Sized> {
    file: &'f F,
    buffer: Vec<u8>,
    /// File offset of `buffer[0]`.
    start: u64,
    /// File length when the cursor was made: bytes appended later are not
    /// read (a live writer's half-written batch).
    end: u64,
    /// Bytes read from the file at once.
    chunk: usize,
}

/// Bytes read from the file at once.
const CURSOR_CHUNK: usize = 1 << 20;

impl<'f, F: LogFile + ?Sized> Cursor<'f, F> {
    pub(crate) fn new(file: &'f F, end: u64) -> Self {
        Self { file, buffer: Vec::new(), start: 0, end, chunk: CURSOR_CHUNK }
    }

    /// A cursor that reads `chunk` bytes at a time (short reads of a few
    /// entries).
    pub(crate) fn with_chunk(file: &'f F, end: u64, chunk: usize) -> Self {
        Self { file, buffer: Vec::new(), start: 0, end, chunk }
    }

    /// The file length the cursor reads up to.
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// `len` bytes at `offset`, or `None` if the file (as of the cursor's
    /// making) ends first. Offsets only move forward, apart from re-reads
    /// within what is buffered.
    pub(crate) fn get(&mut self, offset: u64, len: usize) -> io::Result<Option<&[u8]>> {
        let Some(stop) = offset.checked_add(len as u64) else { return Ok(None) };
        if stop > self.end {
            return Ok(None);
        }
        let buffered_end = self.start + self.buffer.len() as u64;
        if offset < self.start || stop > buffered_end {
            let want = len.max(self.chunk).min(usize::try_from(self.end - offset).unwrap_or(usize::MAX));
            self.buffer.resize(want, 0);
            let mut filled = 0;
            while filled < want {
                let n = self.file.read_at(&mut self.buffer[filled..], offset + filled as u64)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            self.buffer.truncate(filled);
            self.start = offset;
            if filled < len {
                return Ok(None);
            }
        }
        let at = usize::try_from(offset - self.start).unwrap_or(usize::MAX);
        Ok(self.buffer.get(at..at + len))
    }
}
