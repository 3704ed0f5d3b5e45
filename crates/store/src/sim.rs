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
    /// What is certainly on the disk.
    durable: Vec<u8>,
    faults: Faults,
    rng: SimRng,
    syncs: u64,
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
                durable: Vec::new(),
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

    /// What is certainly durable.
    pub fn durable(&self) -> Vec<u8> {
        self.state.borrow().durable.clone()
    }

    /// Successful syncs so far.
    pub fn syncs(&self) -> u64 {
        self.state.borrow().syncs
    }

    /// Power is cut: the file becomes what reached the disk. Sectors written
    /// since the last sync each reached it or not; the length may or may
    /// not include them.
    pub fn crash(&self) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let image = torn_image(&state.durable, &state.visible, &mut state.rng);
        state.visible = image.clone();
        state.durable = image;
        state.faults = Faults::default();
    }

    /// The process dies but the machine stays up: the page cache survives,
    /// so everything written is kept.
    pub fn kill(&self) {
        let mut state = self.state.borrow_mut();
        state.durable = state.visible.clone();
        state.faults = Faults::default();
    }

    /// Flips one bit at `offset` of the durable image (media damage).
    pub fn flip(&self, offset: usize, bit: u8) {
        let mut state = self.state.borrow_mut();
        if let Some(byte) = state.durable.get_mut(offset) {
            *byte ^= 1 << (bit % 8);
        }
        state.visible = state.durable.clone();
    }
}

/// What reaches the disk of `visible` when only `durable` was synced.
fn torn_image(durable: &[u8], visible: &[u8], rng: &mut SimRng) -> Vec<u8> {
    let common = durable.len().min(visible.len());
    // Bytes both agree on are on disk; after them, each sector of the
    // unsynced region persisted or not.
    let mut image = visible[..common].to_vec();
    if visible.len() > common {
        let length = common as u64 + rng.below((visible.len() - common) as u64 + 1);
        let length = usize::try_from(length).unwrap_or(visible.len());
        image.resize(length, 0);
        let mut sector = common / SECTOR_BYTES * SECTOR_BYTES;
        while sector < length {
            let stop = (sector + SECTOR_BYTES).min(length);
            let from = sector.max(common);
            if rng.chance(1, 2) {
                image[from..stop].copy_from_slice(&visible[from..stop]);
            }
            sector += SECTOR_BYTES;
        }
    }
    image
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
            state.durable = torn_image(&state.durable, &state.visible, &mut state.rng);
            return Err(io::Error::other("simulated fsync failure"));
        }
        state.durable = state.visible.clone();
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
        state.durable = state.visible.clone();
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
