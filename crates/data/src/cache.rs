//! The prepared-dataset cache: one versioned binary file per (source,
//! configuration), so later stages reload a dataset in milliseconds.
//!
//! The file name carries a key: a SHA-256 of the cache format version, a
//! fingerprint of this crate's source code (so a build whose preparation or
//! generator differs never reads another build's cache), the source (file
//! paths, sizes and modification times, or the synthetic configuration) and
//! the [`PrepareConfig`]. Change any of them and the key changes, so a stale
//! file is never read. The file itself is:
//!
//! ```text
//! "RECALIGN-DATASET" | format version u32 LE | key [32] | SHA-256 of payload [32] | payload length u64 LE | payload (postcard)
//! ```
//!
//! It is written to a temporary file in the same directory and renamed into
//! place, so a crash never leaves a half-written cache; a file that fails any
//! check on load is reported and rebuilt.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::error::{Error, FileErrors, Result};
use crate::prepare::PrepareConfig;
use crate::spec::Source;

/// Bump when [`Dataset`]'s layout or preparation's meaning changes.
pub const FORMAT_VERSION: u32 = 2;

const MAGIC: &[u8; 16] = b"RECALIGN-DATASET";
const HEADER_LEN: usize = 16 + 4 + 32 + 32 + 8;

/// Environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "RECALIGN_CACHE";

/// The key of a prepared dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// Computes the key of `source` prepared under `config`.
    pub fn new(source: &Source, config: &PrepareConfig) -> Result<Self> {
        let mut hasher = Sha256::new();
        hasher.update(MAGIC);
        hasher.update(FORMAT_VERSION.to_le_bytes());
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(env!("RECALIGN_DATA_SOURCE_HASH").as_bytes());
        hasher.update(serde_json::to_vec(source).unwrap_or_default());
        hasher.update(serde_json::to_vec(config).unwrap_or_default());
        for path in source.files() {
            let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            hasher.update(meta.len().to_le_bytes());
            if let Ok(modified) = meta.modified() {
                let since = modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                hasher.update(since.as_nanos().to_le_bytes());
            }
        }
        Ok(CacheKey(hasher.finalize().into()))
    }

    /// Hex of the first 8 bytes, used in file names.
    pub fn short(&self) -> String {
        self.0[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The default cache directory: `$RECALIGN_CACHE`, else
/// `$XDG_CACHE_HOME/recalign`, else `~/.cache/recalign`, else
/// `./.recalign-cache`.
pub fn default_dir() -> PathBuf {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env(CACHE_DIR_ENV)
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("recalign")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("recalign")))
        .unwrap_or_else(|| PathBuf::from(".recalign-cache"))
}

/// A directory of prepared datasets.
#[derive(Debug, Clone)]
pub struct DatasetCache {
    dir: PathBuf,
}

impl DatasetCache {
    /// A cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DatasetCache { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `name` prepared with `key` is stored.
    pub fn path(&self, name: &str, key: &CacheKey) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}-{}.dataset", key.short()))
    }

    /// The cached dataset, `Ok(None)` if there is none, an error if the file
    /// exists but fails a check.
    pub fn load(&self, name: &str, key: &CacheKey) -> Result<Option<Dataset>> {
        let path = self.path(name, key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        decode(&bytes, key)
            .map(Some)
            .map_err(|reason| Error::Cache { path, reason })
    }

    /// Stores `dataset` atomically and returns the file's path.
    pub fn store(&self, name: &str, key: &CacheKey, dataset: &Dataset) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self.path(name, key);
        let bytes = encode(dataset, key).map_err(|reason| Error::Cache {
            path: path.clone(),
            reason,
        })?;
        recalign_runtime::write_atomically(&path, &bytes)?;
        Ok(path)
    }
}

fn encode(dataset: &Dataset, key: &CacheKey) -> Result<Vec<u8>, String> {
    let payload = postcard::to_stdvec(dataset).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&key.0);
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

fn decode(bytes: &[u8], key: &CacheKey) -> Result<Dataset, String> {
    if bytes.len() < HEADER_LEN || &bytes[..16] != MAGIC {
        return Err("not a recalign dataset file".to_string());
    }
    let read = |at: usize, n: usize| &bytes[at..at + n];
    let version = u32::from_le_bytes(read(16, 4).try_into().map_err(|_| "bad header")?);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        ));
    }
    if read(20, 32) != key.0 {
        return Err("written for another source or configuration".to_string());
    }
    let len = u64::from_le_bytes(read(84, 8).try_into().map_err(|_| "bad header")?);
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != len {
        return Err(format!(
            "truncated: {} of {len} payload bytes",
            payload.len()
        ));
    }
    if Sha256::digest(payload).as_slice() != read(52, 32) {
        return Err("checksum mismatch (file corrupted)".to_string());
    }
    postcard::from_bytes(payload).map_err(|e| format!("undecodable payload: {e}"))
}
