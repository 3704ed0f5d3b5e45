//! The data directory: who owns it, which ledger it holds, and the durable
//! file operations that creating and repairing it need.
//!
//! - `lock`: the node holds an exclusive lock on it for its whole life, so a
//!   second writer refuses to start; readers never take it.
//! - `dauys-ledger`: written once by `init` or `demo`, names the ledger (its
//!   id and genesis hash). A directory with this marker and no intact
//!   genesis in `log.dat` is a ledger that lost its log: the node refuses to
//!   start rather than begin a new one.
//! - `damaged/`: bytes moved out of `log.dat` by recovery or `fsck
//!   --repair`, never deleted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use dauys_core::Hash;

/// The marker file's name.
pub const MARKER: &str = "dauys-ledger";
/// The lock file's name.
pub const LOCK: &str = "lock";
/// The log file's name.
pub const LOG: &str = "log.dat";
/// Where damaged bytes are kept.
pub const DAMAGED: &str = "damaged";

/// What the marker records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The ledger's format.
    pub format: u16,
    /// The ledger id.
    pub ledger_id: Hash,
    /// The hash of entry 0.
    pub genesis: Hash,
}

impl Marker {
    fn text(&self) -> String {
        format!(
            "dauys ledger data directory\nformat {}\nledger_id {}\ngenesis {}\n",
            self.format,
            hex::encode(self.ledger_id),
            hex::encode(self.genesis)
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        if lines.next()? != "dauys ledger data directory" {
            return None;
        }
        let field = |line: Option<&str>, name: &str| line?.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned);
        let format = field(lines.next(), "format")?.parse().ok()?;
        let ledger_id = dauys_core::hexser::parse::<32>(&field(lines.next(), "ledger_id")?).ok()?;
        let genesis = dauys_core::hexser::parse::<32>(&field(lines.next(), "genesis")?).ok()?;
        Some(Self { format, ledger_id, genesis })
    }

    /// Reads the marker of `dir`: `Ok(None)` if there is none.
    pub fn read(dir: &Path) -> io::Result<Option<Self>> {
        match std::fs::read_to_string(dir.join(MARKER)) {
            Ok(text) => Self::parse(&text)
                .map(Some)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{MARKER} is not a dauys marker"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the marker durably (a new file, renamed into place).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        write_durably(dir, MARKER, self.text().as_bytes(), 0o644)
    }
}

/// The exclusive lock on a data directory, held while this value lives.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the exclusive lock of `dir`, or says who holds it.
pub fn lock(dir: &Path) -> io::Result<DirLock> {
    let path = dir.join(LOCK);
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "{} is in use by another dauys process (a running node?); only one may write a ledger",
                dir.display()
            ),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Syncs a directory, so that the names created or renamed in it survive a
/// power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `dir/name` so that after a crash the file either does
/// not exist or is complete: a temporary file, synced, renamed, directory
/// synced.
pub fn write_durably(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&temporary);
    let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, dir.join(name))?;
    sync_dir(dir)
}

/// Copies `bytes` (taken from `log.dat` at `offset`) into `damaged/`,
/// durably, and returns the file's path. Nothing is ever deleted from there.
pub fn keep_aside(dir: &Path, offset: u64, bytes: &[u8], why: &str) -> io::Result<PathBuf> {
    let damaged = dir.join(DAMAGED);
    std::fs::create_dir_all(&damaged)?;
    sync_dir(dir)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut name = format!("log.dat-from-byte-{offset}-at-{stamp}.bin");
    let mut n = 1;
    while damaged.join(&name).exists() {
        name = format!("log.dat-from-byte-{offset}-at-{stamp}-{n}.bin");
        n += 1;
    }
    write_durably(&damaged, &name, bytes, 0o600)?;
    write_durably(
        &damaged,
        &format!("{name}.txt"),
        format!("{} bytes cut from log.dat at byte offset {offset}\nreason: {why}\n", bytes.len()).as_bytes(),
        0o644,
    )?;
    Ok(damaged.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_and_rejects_other_files() {
        let marker = Marker { format: 2, ledger_id: [1; 32], genesis: [2; 32] };
        assert_eq!(Marker::parse(&marker.text()), Some(marker));
        assert_eq!(Marker::parse("something else\n"), None);
    }

    #[test]
    fn a_second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        let second = lock(dir.path()).unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock);
        assert!(second.to_string().contains("in use"));
        drop(first);
        lock(dir.path()).unwrap();
    }
}
