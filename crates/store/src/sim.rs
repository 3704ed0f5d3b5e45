//! A simulated disk for the deterministic simulation: the log runs on it
//! exactly as on a real file, while the simulation decides, from one seed,
//! what a crash leaves behind.
//!
//! The model follows what Linux and ext4 promise: bytes written are visible
//! at once but durable only after a successful sync; at a crash, every
//! 512-byte sector written since the last sync independently reached the
//! disk or did not (reads as zeros), and the file's length may or may not
//! have grown. A full disk accepts part of a write and then fails it; a
//! failed sync may have persisted any subset of the unsynced sectors.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use crate::file::LogFile;

/// Sectors are torn independently at this size.
pub const SECTOR_BYTES: usize = 512;

/// A small deterministic random generator (SplitMix64): enough to drive a
/// simulation from a seed, not for anything secret.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    /// An index in `0..len` (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }
    /// True with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }
}

/// Faults the next operations will meet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// The disk holds at most this many bytes of the file.
    pub capacity: Option<u64>,
    /// The next sync fails (and persists a random subset of what it should).
    pub fail_next_sync: bool,
    /// The next truncation fails.
    pub fail_next_truncate: bool,
}

#[derive(Debug)]
struct State {
    /// What a reader sees now (the page cache).
    visible: Vec<u8>,
    /// The sectors on the disk, whole: what a crash leaves is `disk` up to
    /// `durable_len`. Sectors are written whole, so bytes past the file's
    /// length inside a written sector are there too.
    disk: Vec<u8>,
    /// The file length the disk's metadata holds.
    durable_len: usize,
    faults: Faults,
    rng: SimRng,
    syncs: u64,
}

impl State {
    /// What the file reads as on the disk: its length, zeros where no data
    /// was ever written.
    fn on_disk(&self) -> Vec<u8> {
        let mut image = self.disk.clone();
        image.resize(self.durable_len, 0);
        image
    }

    /// Some of the sectors written since the last sync reach the disk, each
    /// whole or not at all, and the length may or may not grow.
    fn tear(&mut self) {
        let from = self.durable_len.min(self.visible.len());
        if self.disk.len() < self.visible.len() {
            self.disk.resize(self.visible.len(), 0);
        }
        let mut sector = from / SECTOR_BYTES * SECTOR_BYTES;
        while sector < self.visible.len() {
            let stop = (sector + SECTOR_BYTES).min(self.visible.len());
            if self.disk[sector..stop] != self.visible[sector..stop] && self.rng.chance(1, 2) {
                self.disk[sector..stop].copy_from_slice(&self.visible[sector..stop]);
            }
            sector += SECTOR_BYTES;
        }
        if self.visible.len() > from {
            let grown = self.rng.below((self.visible.len() - from) as u64 + 1);
            self.durable_len = from + usize::try_from(grown).unwrap_or(0);
        }
    }

    /// Everything written is on the disk.
    fn sync_all(&mut self) {
        self.disk = self.visible.clone();
        self.durable_len = self.visible.len();
    }
}

/// The simulated disk holding one log file. Clones share the disk.
#[derive(Debug, Clone)]
pub struct SimDisk {
    state: Rc<RefCell<State>>,
}

impl SimDisk {
    /// An empty disk whose crashes are decided by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: Rc::new(RefCell::new(State {
                visible: Vec::new(),
                disk: Vec::new(),
                durable_len: 0,
                faults: Faults::default(),
                rng: SimRng::new(seed),
                syncs: 0,
            })),
        }
    }

    /// A handle on the file, to give to the log.
    pub fn file(&self) -> SimFile {
        SimFile { disk: self.clone() }
    }

    /// Sets the faults the next operations meet.
    pub fn set_faults(&self, faults: Faults) {
        self.state.borrow_mut().faults = faults;
    }

    /// The faults still armed.
    pub fn faults(&self) -> Faults {
        self.state.borrow().faults
    }

    /// What the file holds now, as a reader sees it.
    pub fn visible(&self) -> Vec<u8> {
        self.state.borrow().visible.clone()
    }

    /// What the file would read as after a crash with nothing more written.
    pub fn durable(&self) -> Vec<u8> {
        self.state.borrow().on_disk()
    }

    /// Successful syncs so far.
    pub fn syncs(&self) -> u64 {
        self.state.borrow().syncs
    }

    /// Power is cut: the file becomes what reached the disk. Sectors written
    /// since the last sync each reached it whole or not at all; the length
    /// may or may not include them. Blocks past the new length are freed.
    pub fn crash(&self) {
        let mut state = self.state.borrow_mut();
        state.tear();
        let image = state.on_disk();
        state.disk = image.clone();
        state.visible = image;
        state.faults = Faults::default();
    }

    /// The process dies but the machine stays up: the page cache survives,
    /// so everything written is kept.
    pub fn kill(&self) {
        let mut state = self.state.borrow_mut();
        state.sync_all();
        state.faults = Faults::default();
    }

    /// Flips one bit at `offset` of the file, on the disk and in the cache
    /// (media damage).
    pub fn flip(&self, offset: usize, bit: u8) {
        let mut state = self.state.borrow_mut();
        state.sync_all();
        if let Some(byte) = state.disk.get_mut(offset) {
            *byte ^= 1 << (bit % 8);
        }
        state.visible = state.on_disk();
    }
}

/// A handle on the simulated log file.
#[derive(Debug, Clone)]
pub struct SimFile {
    disk: SimDisk,
}

impl LogFile for SimFile {
    fn len(&self) -> io::Result<u64> {
        Ok(self.disk.state.borrow().visible.len() as u64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let state = self.disk.state.borrow();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(state.visible.len());
        let n = buf.len().min(state.visible.len() - start);
        buf[..n].copy_from_slice(&state.visible[start..start + n]);
        Ok(n)
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut state = self.disk.state.borrow_mut();
        let room = match state.faults.capacity {
            Some(capacity) => usize::try_from(capacity.saturating_sub(state.visible.len() as u64)).unwrap_or(0),
            None => usize::MAX,
        };
        if data.len() > room {
            // A full disk takes what fits, then refuses the rest.
            state.visible.extend_from_slice(&data[..room]);
            return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left on the simulated disk"));
        }
        state.visible.extend_from_slice(data);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut state = self.disk.state.borrow_mut();
        let state = &mut *state;
        if state.faults.fail_next_sync {
            state.faults.fail_next_sync = false;
            // Some of the unsynced sectors may have reached the disk anyway.
            state.tear();
            return Err(io::Error::other("simulated fsync failure"));
        }
        state.sync_all();
        state.syncs += 1;
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut state = self.disk.state.borrow_mut();
        if state.faults.fail_next_truncate {
            state.faults.fail_next_truncate = false;
            return Err(io::Error::other("simulated truncate failure"));
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        state.visible.truncate(len);
        state.sync_all();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_bytes_may_vanish_and_synced_ones_never_do() {
        for seed in 0..64 {
            let disk = SimDisk::new(seed);
            let mut file = disk.file();
            file.append(&[1; 1000]).unwrap();
            file.sync().unwrap();
            file.append(&[2; 3000]).unwrap();
            disk.crash();
            let image = disk.visible();
            assert!(image.len() >= 1000 && image.len() <= 4000);
            assert_eq!(&image[..1000], &[1; 1000][..]);
            assert!(image[1000..].iter().all(|&b| b == 0 || b == 2));
        }
    }

    #[test]
    fn a_full_disk_takes_part_of_a_write() {
        let disk = SimDisk::new(1);
        let mut file = disk.file();
        disk.set_faults(Faults { capacity: Some(10), ..Faults::default() });
        assert_eq!(file.append(&[7; 25]).unwrap_err().kind(), io::ErrorKind::StorageFull);
        assert_eq!(file.len().unwrap(), 10);
    }
}
