//! Reading a ZIP container without trusting it.
//!
//! A ZIP declares its entry count and every entry's sizes, and a bomb lies about all of them.
//! So: the entry count is checked in the end-of-central-directory record before the archive
//! index is built (the index costs memory per entry), and again after; the declared sizes
//! give an early, cheap refusal; and the bytes actually decompressed pass through
//! [`Capped`], which fails the read as soon as the entry exceeds the archive's remaining
//! byte budget or the compression ratio. Callers stream from it; nothing is read whole
//! before it has been counted.

use std::io::{self, Cursor, Read};

use zip::ZipArchive;

use crate::{DocsError, Format, Limits};

/// Decompressed bytes an entry may produce before the ratio limit applies: small, regular
/// XML parts compress far better than 100× and are harmless.
const RATIO_FREE_BYTES: u64 = 1 << 20;

/// The longest stretch of an entry without a `<` that is taken for XML. quick-xml gathers a
/// whole text node in memory before handing it over, so this bounds its buffer: a bomb of
/// zeros (or of any one byte) stops here, long before the ratio or the budget would stop
/// it, and memory stays small. No real OOXML part has megabytes of text without markup.
const MAX_XML_RUN: u64 = 8 << 20;

pub(crate) enum Container {
    Docx,
    Other(&'static str),
}

/// What a ZIP is, by the names of its entries. Unreadable archives are passed on as DOCX
/// candidates only when they name `word/document.xml`; anything else is "a ZIP archive".
pub(crate) fn container_kind(bytes: &[u8]) -> Container {
    let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
    // The central directory is at the end; names also appear in local headers. A byte
    // search avoids building the archive index twice and works on damaged archives.
    if has(b"word/document.xml") {
        Container::Docx
    } else if has(b"xl/workbook.xml") {
        Container::Other("XLSX spreadsheet")
    } else if has(b"ppt/presentation.xml") {
        Container::Other("PPTX presentation")
    } else if has(b"application/vnd.oasis.opendocument") {
        Container::Other("OpenDocument file")
    } else if has(b"application/epub+zip") {
        Container::Other("EPUB book")
    } else {
        Container::Other("ZIP archive")
    }
}

/// An archive opened under the limits, with the byte budget left for its entries.
pub(crate) struct GuardedZip<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    format: Format,
    remaining: u64,
    limits: &'a Limits,
}

impl<'a> GuardedZip<'a> {
    pub(crate) fn open(
        bytes: &'a [u8],
        format: Format,
        limits: &'a Limits,
    ) -> Result<Self, DocsError> {
        let too_many = DocsError::TooLarge {
            what: "ZIP entries",
            limit: limits.max_zip_entries,
        };
        if let Some(declared) = declared_entry_count(bytes)
            && declared > limits.max_zip_entries
        {
            return Err(too_many);
        }
        let archive = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| DocsError::corrupt(format, format!("unreadable ZIP container: {e}")))?;
        if archive.len() as u64 > limits.max_zip_entries {
            return Err(too_many);
        }
        Ok(GuardedZip {
            archive,
            format,
            remaining: limits.max_zip_uncompressed_bytes,
            limits,
        })
    }

    /// Streams the entry `name` to `f`, or returns `Ok(None)` when there is no such entry.
    /// `f` gets a reader that errors once a limit is passed; its error is replaced by the
    /// matching [`DocsError::TooLarge`].
    pub(crate) fn with_entry<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Read) -> Result<T, DocsError>,
    ) -> Result<Option<T>, DocsError> {
        let Some(index) = self.archive.index_for_name(name) else {
            return Ok(None);
        };
        let (format, limits) = (self.format, self.limits);
        let entry = self
            .archive
            .by_index(index)
            .map_err(|e| DocsError::corrupt(format, format!("{name}: {e}")))?;
        // The declared sizes only allow an early refusal; the cap below holds either way.
        let compressed = entry.compressed_size();
        let ratio_cap =
            RATIO_FREE_BYTES.max(compressed.saturating_mul(limits.max_compression_ratio));
        if entry.size() > self.remaining {
            return Err(budget_error(limits));
        }
        if entry.size() > ratio_cap {
            return Err(ratio_error(limits));
        }
        let mut capped = Capped::new(entry, self.remaining, ratio_cap);
        let result = f(&mut capped);
        self.remaining -= capped.read.min(self.remaining);
        match capped.tripped() {
            Some(Trip::Budget) => Err(budget_error(limits)),
            Some(Trip::Ratio) => Err(ratio_error(limits)),
            Some(Trip::Run) => Err(DocsError::TooLarge {
                what: "bytes of XML without markup (a zip bomb?)",
                limit: MAX_XML_RUN,
            }),
            None => result.map(Some),
        }
    }

    /// The whole entry in memory, for the small parts (styles, properties).
    pub(crate) fn read_entry(&mut self, name: &str) -> Result<Option<Vec<u8>>, DocsError> {
        let format = self.format;
        self.with_entry(name, |r| {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf)
                .map_err(|e| DocsError::corrupt(format, format!("{name}: {e}")))?;
            Ok(buf)
        })
    }
}

fn budget_error(limits: &Limits) -> DocsError {
    DocsError::TooLarge {
        what: "decompressed ZIP bytes",
        limit: limits.max_zip_uncompressed_bytes,
    }
}

fn ratio_error(limits: &Limits) -> DocsError {
    DocsError::TooLarge {
        what: "ZIP compression ratio (a zip bomb?)",
        limit: limits.max_compression_ratio,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    Budget,
    Ratio,
    Run,
}

/// A reader that counts what comes out of the decompressor and fails, for good, past the
/// byte budget, the ratio cap or [`MAX_XML_RUN`].
pub(crate) struct Capped<R> {
    inner: R,
    read: u64,
    budget: u64,
    ratio_cap: u64,
    /// Bytes since the last `<`.
    run: u64,
    tripped: Option<Trip>,
}

impl<R> Capped<R> {
    pub(crate) fn new(inner: R, budget: u64, ratio_cap: u64) -> Self {
        Capped {
            inner,
            read: 0,
            budget,
            ratio_cap,
            run: 0,
            tripped: None,
        }
    }

    /// Which cap stopped the reading, if one did.
    pub(crate) fn tripped(&self) -> Option<Trip> {
        self.tripped
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped.is_some() {
            return Err(io::Error::other("ZIP entry over its limit"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        match buf[..n].iter().rposition(|&b| b == b'<') {
            Some(at) => self.run = (n - at - 1) as u64,
            None => self.run += n as u64,
        }
        if self.run > MAX_XML_RUN {
            self.tripped = Some(Trip::Run);
        } else if self.read > self.budget {
            self.tripped = Some(Trip::Budget);
        } else if self.read > self.ratio_cap {
            self.tripped = Some(Trip::Ratio);
        }
        if self.tripped.is_some() {
            return Err(io::Error::other("ZIP entry over its limit"));
        }
        Ok(n)
    }
}

/// The entry count of the end-of-central-directory record, when it can be found. A ZIP64
/// archive stores 0xFFFF there and the real count elsewhere; the count after opening is
/// checked too, so this only needs to catch the common case early.
fn declared_entry_count(bytes: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD_LEN: usize = 22;
    // The record is the last thing in the file, followed by a comment of up to 64 KiB.
    let start = bytes.len().saturating_sub(EOCD_LEN + u16::MAX as usize);
    let tail = &bytes[start..];
    let at = tail
        .windows(EOCD.len())
        .rposition(|w| w == EOCD)
        .filter(|&at| at + EOCD_LEN <= tail.len())?;
    let total = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
    (total != u16::MAX).then_some(u64::from(total))
}
