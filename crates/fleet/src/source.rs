//! Where a fleet's bytes come from: a regular file, standard input or a reader, with gzip
//! and zstd taken off transparently.

use crate::ReadError;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Where to read a fleet from.
pub enum Source<'a> {
    /// A regular file (a FIFO, a device or a directory is refused, so that naming one cannot
    /// hang the reader or feed it forever).
    Path(&'a Path),
    /// Standard input (`--machines -`).
    Stdin,
    /// Any reader, named `name` in messages.
    Reader {
        /// What messages call it.
        name: String,
        /// The bytes.
        reader: Box<dyn Read + 'a>,
    },
}

impl Source<'_> {
    /// What messages call the source: the path, `standard input`, or the reader's name.
    pub fn name(&self) -> String {
        match self {
            Source::Path(path) => path.display().to_string(),
            Source::Stdin => "standard input".to_owned(),
            Source::Reader { name, .. } => name.clone(),
        }
    }
}

/// How a source's bytes are compressed, told by their first bytes (not by the file's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (`.gz`), one member or several one after another.
    Gzip,
    /// Zstandard (`.zst`), one frame or several.
    Zstd,
}

impl Compression {
    /// The compression whose magic number `bytes` start with.
    ///
    /// ```
    /// use cohort_fleet::Compression;
    /// assert_eq!(Compression::of(b"\x1f\x8b\x08\x00"), Compression::Gzip);
    /// assert_eq!(Compression::of(b"\x28\xb5\x2f\xfd"), Compression::Zstd);
    /// assert_eq!(Compression::of(b"{\"id\": 1}"), Compression::None);
    /// ```
    pub fn of(bytes: &[u8]) -> Compression {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The size of the buffer the source is read through.
const BUFFER: usize = 1 << 20;

/// The bytes of a source, decompressed, and what they are called.
pub(crate) struct Opened<'a> {
    pub(crate) name: String,
    pub(crate) reader: Box<dyn Read + 'a>,
    pub(crate) compression: Compression,
}

/// Opens `source`, taking gzip or zstd off when its first bytes say it is compressed.
pub(crate) fn open<'s>(
    source: Source<'s>,
    progress: Option<&crate::Progress>,
) -> Result<Opened<'s>, ReadError> {
    let name = source.name();
    let io = |name: &str| {
        let name = name.to_owned();
        move |source: std::io::Error| ReadError::Io { name, source }
    };
    let (raw, size): (Box<dyn Read>, Option<u64>) = match source {
        Source::Path(path) => {
            let file = open_regular(path)?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        }
        Source::Stdin => (Box::new(std::io::stdin()), None),
        Source::Reader { reader, .. } => (reader, None),
    };
    let raw: Box<dyn Read> = match progress {
        Some(progress) => Box::new(Counted {
            inner: raw,
            read: 0,
            size,
            progress: progress.clone(),
        }),
        None => raw,
    };
    let mut buffered = BufReader::with_capacity(BUFFER, raw);
    let compression = Compression::of(buffered.fill_buf().map_err(io(&name))?);
    let reader: Box<dyn Read> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(io(&name))?)
        }
    };
    Ok(Opened {
        name,
        reader,
        compression,
    })
}

/// A source that tells [`crate::Progress`] how much of it has been read.
struct Counted<'s> {
    inner: Box<dyn Read + 's>,
    read: u64,
    size: Option<u64>,
    progress: crate::Progress,
}

impl Read for Counted<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.read += count as u64;
        self.progress.report(self.read, self.size);
        Ok(count)
    }
}

/// Opens `path` when it is a regular file (checked before opening, following symbolic
/// links, and again on the open file).
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File, ReadError> {
    let name = path.display().to_string();
    let io = |source| ReadError::Io {
        name: name.clone(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    refuse_irregular(path, &metadata)?;
    let file = std::fs::File::open(path).map_err(io)?;
    refuse_irregular(path, &file.metadata().map_err(io)?)?;
    Ok(file)
}

fn refuse_irregular(path: &Path, metadata: &std::fs::Metadata) -> Result<(), ReadError> {
    match not_regular(metadata) {
        None => Ok(()),
        Some(kind) => Err(ReadError::NotAFile {
            path: PathBuf::from(path),
            kind,
        }),
    }
}

/// What a file that is not a regular file is, for messages: `a FIFO`, `a directory`...
pub fn not_regular(metadata: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}
