//! The backup file format shared by `coso-hub backup` and `coso-agent
//! backup`: every record of a sled database (tree, key, value), framed, with a
//! SHA-256 over the whole file at its end, so a truncated or altered copy is
//! refused before anything is restored.
//!
//! Layout: the 12 bytes `COSO-BACKUP\n`; a header (u32 big-endian length,
//! JSON [`Header`]); records, each `0x01`, then tree name, key and value, each
//! as u32 big-endian length and bytes; `0x00`; the SHA-256 of everything
//! before it.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

const MAGIC: &[u8; 12] = b"COSO-BACKUP\n";
/// One length field may not claim more than this (a damaged file must not
/// make the reader allocate gigabytes).
const MAX_FIELD: u32 = 64 << 20;

/// What the backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// "hub" or "agent".
    pub kind: String,
    pub version: u32,
    /// RFC 3339.
    pub created_at: String,
}

/// One database record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub tree: Vec<u8>,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

#[derive(Debug, Error)]
pub enum BackupError {
    #[error("not a coso backup file")]
    NotABackup,
    #[error("the backup file is damaged or incomplete: {0}")]
    Damaged(&'static str),
    #[error("the backup is of a coso-{found}, not a coso-{expected}")]
    WrongKind { expected: String, found: String },
    #[error("reading or writing the backup failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes a backup, hashing as it goes.
pub struct Writer<W: Write> {
    out: W,
    hash: Sha256,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, header: &Header) -> Result<Writer<W>, BackupError> {
        let mut hash = Sha256::new();
        let head = serde_json::to_vec(header).map_err(|_| BackupError::Damaged("header"))?;
        let mut buf = Vec::with_capacity(16 + head.len());
        buf.extend_from_slice(MAGIC);
        put(&mut buf, &head);
        hash.update(&buf);
        out.write_all(&buf)?;
        Ok(Writer { out, hash })
    }

    pub fn record(&mut self, tree: &[u8], key: &[u8], value: &[u8]) -> Result<(), BackupError> {
        let mut buf = Vec::with_capacity(13 + tree.len() + key.len() + value.len());
        buf.push(1);
        put(&mut buf, tree);
        put(&mut buf, key);
        put(&mut buf, value);
        self.hash.update(&buf);
        self.out.write_all(&buf)?;
        Ok(())
    }

    /// Writes the end mark and the hash; returns the inner writer.
    pub fn finish(mut self) -> Result<W, BackupError> {
        self.hash.update([0u8]);
        let digest: [u8; 32] = self.hash.finalize().into();
        self.out.write_all(&[0])?;
        self.out.write_all(&digest)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

struct HashingReader<R: Read> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn exact(&mut self, n: usize) -> Result<Vec<u8>, BackupError> {
        let mut v = vec![0; n];
        self.inner.read_exact(&mut v).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => BackupError::Damaged("it ends early"),
            _ => BackupError::Io(e),
        })?;
        self.hash.update(&v);
        Ok(v)
    }

    fn field(&mut self) -> Result<Vec<u8>, BackupError> {
        let len = u32::from_be_bytes(
            self.exact(4)?
                .try_into()
                .map_err(|_| BackupError::Damaged("length"))?,
        );
        if len > MAX_FIELD {
            return Err(BackupError::Damaged("a record claims an impossible length"));
        }
        self.exact(len as usize)
    }
}

/// Reads a whole backup and checks its hash; `expected_kind` is "hub" or
/// "agent". Nothing is returned unless the file is complete and intact.
pub fn read(input: impl Read, expected_kind: &str) -> Result<(Header, Vec<Record>), BackupError> {
    let mut r = HashingReader {
        inner: input,
        hash: Sha256::new(),
    };
    let magic = r.exact(MAGIC.len()).map_err(|_| BackupError::NotABackup)?;
    if magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let header: Header =
        serde_json::from_slice(&r.field()?).map_err(|_| BackupError::Damaged("header"))?;
    if header.kind != expected_kind {
        return Err(BackupError::WrongKind {
            expected: expected_kind.into(),
            found: header.kind,
        });
    }
    let mut records = Vec::new();
    loop {
        match r.exact(1)?[0] {
            1 => records.push(Record {
                tree: r.field()?,
                key: r.field()?,
                value: r.field()?,
            }),
            0 => break,
            _ => return Err(BackupError::Damaged("unknown record mark")),
        }
    }
    let computed: [u8; 32] = r.hash.clone().finalize().into();
    let mut stored = [0u8; 32];
    r.inner
        .read_exact(&mut stored)
        .map_err(|_| BackupError::Damaged("it ends early"))?;
    if stored != computed {
        return Err(BackupError::Damaged("its checksum does not match"));
    }
    let mut rest = [0u8; 1];
    if r.inner.read(&mut rest)? != 0 {
        return Err(BackupError::Damaged("data after the end"));
    }
    Ok((header, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let h = Header {
            kind: "hub".into(),
            version: 1,
            created_at: "2026-06-01T00:00:00Z".into(),
        };
        let mut w = Writer::new(Vec::new(), &h).unwrap();
        w.record(b"hub", b"k1", b"v1").unwrap();
        w.record(b"__sled__default", b"", b"").unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let bytes = sample();
        let (h, recs) = read(&bytes[..], "hub").unwrap();
        assert_eq!(h.kind, "hub");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].value, b"v1");
        assert!(matches!(
            read(&bytes[..], "agent"),
            Err(BackupError::WrongKind { .. })
        ));
        assert!(matches!(
            read(&bytes[..bytes.len() - 1], "hub"),
            Err(BackupError::Damaged(_))
        ));
        let mut flipped = bytes.clone();
        let at = flipped.len() - 40;
        flipped[at] ^= 1;
        assert!(read(&flipped[..], "hub").is_err());
        assert!(matches!(
            read(&b"hello world, not a backup"[..], "hub"),
            Err(BackupError::NotABackup)
        ));
    }
}
