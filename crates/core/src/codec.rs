//! The canonical binary encoding: big-endian integers, length-prefixed UTF-8
//! strings, fixed-size byte arrays, and nothing else.
//!
//! There is exactly one encoding of every value, so a decoder that consumes
//! all input without error has read canonical bytes. The decoder never
//! panics and never allocates more than its input length justifies.

use thiserror::Error;

/// Why bytes could not be decoded. Carries the field that failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("input ends inside `{field}`")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes remain after the last field.
    #[error("{count} unexpected trailing bytes")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// A length or count exceeds its limit.
    #[error("`{field}` is {found}, more than the limit {max}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The length found.
        found: u64,
        /// The limit.
        max: u64,
    },
    /// A length or count is below its minimum.
    #[error("`{field}` is {found}, fewer than the minimum {min}")]
    TooShort {
        /// The field.
        field: &'static str,
        /// The length found.
        found: u64,
        /// The minimum.
        min: u64,
    },
    /// A string field is not valid UTF-8.
    #[error("`{field}` is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// A tag or flag byte has no meaning.
    #[error("`{field}` has unknown value {value}")]
    UnknownTag {
        /// The field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// The magic bytes that open a structure are wrong.
    #[error("`{field}` magic is wrong")]
    BadMagic {
        /// Which structure.
        field: &'static str,
    },
    /// A version field names a known format, but not the one required here
    /// (the ledger's).
    #[error("`{field}` is {found}, but this ledger is format {expected}")]
    WrongVersion {
        /// The field.
        field: &'static str,
        /// The version found.
        found: u16,
        /// The version required.
        expected: u16,
    },
    /// A string holds a control character (format 2 allows only U+000A).
    #[error("`{field}` contains a control character")]
    ControlCharacter {
        /// The field.
        field: &'static str,
    },
    /// A time lies beyond the format's last millisecond.
    #[error("`{field}` is {found}, later than the format allows ({max})")]
    TimeOutOfRange {
        /// The field.
        field: &'static str,
        /// The time found.
        found: u64,
        /// The latest time allowed.
        max: u64,
    },
}

/// Appends canonical encodings to a byte vector.
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }
    /// One byte.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes.push(value);
        self
    }
    /// Two bytes, big-endian.
    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }
    /// Four bytes, big-endian.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }
    /// Eight bytes, big-endian.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }
    /// Raw bytes with no length prefix (fixed-size fields).
    pub fn raw(&mut self, value: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(value);
        self
    }
    /// A u32 length followed by the bytes.
    ///
    /// # Panics
    /// If the value is longer than `u32::MAX`; callers build values within
    /// the limits of [`crate::limits`], far below that.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        let length = u32::try_from(value.len()).expect("length within limits");
        self.u32(length).raw(value)
    }
    /// A u32 length followed by the UTF-8 bytes.
    pub fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }
    /// A u32 count; the caller writes the items.
    pub fn count(&mut self, count: usize) -> &mut Self {
        let count = u32::try_from(count).expect("count within limits");
        self.u32(count)
    }
    /// The bytes written so far.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads canonical encodings from a byte slice, refusing anything else.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }
    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }
    /// Two bytes, big-endian.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }
    /// Four bytes, big-endian.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }
    /// Eight bytes, big-endian.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }
    /// A u32 count checked against `min..=max`.
    pub fn count(&mut self, field: &'static str, min: usize, max: usize) -> Result<usize, DecodeError> {
        let count = u64::from(self.u32(field)?);
        check_range(field, count, min as u64, max as u64)?;
        // The range check above bounds the count by `max`, a usize.
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }
    /// Length-prefixed bytes whose length is within `min..=max`.
    pub fn bytes(&mut self, field: &'static str, min: usize, max: usize) -> Result<&'a [u8], DecodeError> {
        let length = self.count(field, min, max)?;
        self.take(length, field)
    }
    /// A length-prefixed UTF-8 string whose byte length is within `min..=max`.
    pub fn str(&mut self, field: &'static str, min: usize, max: usize) -> Result<&'a str, DecodeError> {
        let bytes = self.bytes(field, min, max)?;
        core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { field })
    }
    /// Fails unless every byte has been consumed.
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { count: self.rest.len() })
        }
    }
}

/// Checks `found` against `min..=max`, naming the field on failure.
pub fn check_range(field: &'static str, found: u64, min: u64, max: u64) -> Result<(), DecodeError> {
    if found < min {
        return Err(DecodeError::TooShort { field, found, min });
    }
    if found > max {
        return Err(DecodeError::TooLong { field, found, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strict_end() {
        let mut writer = Writer::new();
        writer.u8(7).u16(0x0102).u64(9).str("ақ");
        let bytes = writer.finish();
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.u8("a"), Ok(7));
        assert_eq!(reader.u16("b"), Ok(0x0102));
        assert_eq!(reader.u64("c"), Ok(9));
        assert_eq!(reader.str("d", 1, 10), Ok("ақ"));
        assert_eq!(reader.end(), Ok(()));

        let mut longer = bytes.clone();
        longer.push(0);
        let mut reader = Reader::new(&longer);
        reader.take(bytes.len(), "all").unwrap();
        assert_eq!(reader.end(), Err(DecodeError::TrailingBytes { count: 1 }));
    }

    #[test]
    fn lengths_are_bounded_before_reading() {
        let bytes = [0xff, 0xff, 0xff, 0xff];
        let mut reader = Reader::new(&bytes);
        assert!(matches!(reader.str("s", 0, 10), Err(DecodeError::TooLong { found: 4_294_967_295, .. })));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let bytes = [0, 0, 0, 1, 0xff];
        assert_eq!(Reader::new(&bytes).str("s", 0, 10), Err(DecodeError::InvalidUtf8 { field: "s" }));
    }
}
