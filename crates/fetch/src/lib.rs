//! Verified downloads: fetch a URL into a file, checking its SHA-256.
//!
//! The body is streamed into a temporary file in the destination's directory
//! and hashed on the way; only if the digest matches the expected one is the
//! file renamed over the destination. A mismatch, a network error or a crash
//! leaves the destination as it was. `file://` URLs and plain paths are read
//! locally, which is how the verification path is tested without a network.
//!
//! Nothing else in recalign touches the network: datasets are read from
//! local files, and this crate only runs when a user asks for a download.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let src = dir.path().join("src.txt");
//! std::fs::write(&src, b"hello").unwrap();
//! let dest = dir.path().join("copy.txt");
//! let digest = recalign_fetch::fetch(src.to_str().unwrap(), &dest, None, &mut |_, _| {}).unwrap();
//! assert_eq!(digest, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
//! assert!(recalign_fetch::fetch(src.to_str().unwrap(), &dest, Some("00"), &mut |_, _| {}).is_err());
//! ```

#![deny(missing_docs)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use recalign_runtime::{AtomicFile, IoError, write_atomically};
use sha2::{Digest, Sha256};

/// What can go wrong while fetching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed (DNS, connection, HTTP status).
    #[error("{url}: {message}")]
    Network {
        /// The URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// Reading the source or writing the destination failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The content's digest is not the expected one; nothing was written.
    #[error(
        "{url}: SHA-256 mismatch: expected {expected}, got {actual}; {} was left unchanged",
        dest.display()
    )]
    Checksum {
        /// The URL.
        url: String,
        /// Where it would have gone.
        dest: PathBuf,
        /// The expected digest.
        expected: String,
        /// The digest of what was received.
        actual: String,
    },
    /// An expected digest that is not 64 hex digits.
    #[error("`{0}` is not a SHA-256 digest (64 hex digits)")]
    BadDigest(String),
    /// A line of a `SHA256SUMS` file that is not `DIGEST  NAME`.
    #[error("{}:{line}: expected `<sha256>  <file name>`", path.display())]
    BadChecksumLine {
        /// The checksum file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
}

/// A `SHA256SUMS` file (the format `sha256sum` writes and `sha256sum -c`
/// checks): one `DIGEST  NAME` line per file.
#[derive(Debug, Clone)]
pub struct Checksums {
    path: PathBuf,
    entries: std::collections::BTreeMap<String, String>,
}

impl Checksums {
    /// Reads `path`; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Self, FetchError> {
        let mut entries = std::collections::BTreeMap::new();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let bad = || FetchError::BadChecksumLine {
                        path: path.to_path_buf(),
                        line: i + 1,
                    };
                    let (digest, name) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
                    let digest = parse_digest(digest).map_err(|_| bad())?;
                    let name = name.trim_start().trim_start_matches('*');
                    if name.is_empty() {
                        return Err(bad());
                    }
                    entries.insert(name.to_string(), digest);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(IoError::new(path, e).into()),
        }
        Ok(Checksums {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The recorded digest of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// Records `digest` for `name`.
    pub fn set(&mut self, name: &str, digest: &str) {
        self.entries.insert(name.to_string(), digest.to_string());
    }

    /// Writes the file atomically.
    pub fn save(&self) -> Result<(), FetchError> {
        let text: String = self
            .entries
            .iter()
            .map(|(name, digest)| format!("{digest}  {name}\n"))
            .collect();
        Ok(write_atomically(&self.path, text.as_bytes())?)
    }
}

/// Checks that `digest` is 64 hex digits and lower-cases it.
pub fn parse_digest(digest: &str) -> Result<String, FetchError> {
    let d = digest.trim().to_ascii_lowercase();
    if d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(d)
    } else {
        Err(FetchError::BadDigest(digest.to_string()))
    }
}

/// The SHA-256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut file = File::open(path).map_err(IoError::at(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(IoError::at(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fetches `url` into `dest` and returns the content's SHA-256. When
/// `expected` is given, a different digest is an error and `dest` is left
/// untouched. `progress(bytes_so_far, total)` is called as data arrives.
pub fn fetch(
    url: &str,
    dest: &Path,
    expected: Option<&str>,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<String, FetchError> {
    let expected = expected.map(parse_digest).transpose()?;
    let (mut reader, total): (Box<dyn Read>, Option<u64>) = open(url)?;
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(IoError::at(dir))?;
    let mut tmp = AtomicFile::create(dest)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| FetchError::Network {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(IoError::at(tmp.temp_path()))?;
        done += n as u64;
        progress(done, total);
    }
    let actual = hex(&hasher.finalize());
    if let Some(expected) = expected
        && expected != actual
    {
        return Err(FetchError::Checksum {
            url: url.to_string(),
            dest: dest.to_path_buf(),
            expected,
            actual,
        });
    }
    tmp.commit()?;
    Ok(actual)
}

fn open(url: &str) -> Result<(Box<dyn Read>, Option<u64>), FetchError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        let response = ureq::get(url).call().map_err(|e| FetchError::Network {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let total = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let reader = response.into_body().into_reader();
        return Ok((Box::new(reader), total));
    }
    let path = Path::new(url.strip_prefix("file://").unwrap_or(url));
    let file = File::open(path).map_err(IoError::at(path))?;
    let total = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(file), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_leaves_the_existing_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.bin");
        std::fs::write(&src, b"new content").unwrap();
        let dest = dir.path().join("dest.bin");
        std::fs::write(&dest, b"good old file").unwrap();
        let wrong = "0".repeat(64);
        let err = fetch(
            &format!("file://{}", src.display()),
            &dest,
            Some(&wrong),
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        assert!(err.to_string().contains(&wrong));
        assert_eq!(std::fs::read(&dest).unwrap(), b"good old file");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".recalign-download")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn match_replaces_and_reports_progress() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.bin");
        let body = vec![7u8; 200_000];
        std::fs::write(&src, &body).unwrap();
        let digest = sha256_file(&src).unwrap();
        let dest = dir.path().join("sub/dest.bin");
        let mut seen = 0;
        let got = fetch(
            src.to_str().unwrap(),
            &dest,
            Some(&digest.to_uppercase()),
            &mut |n, total| {
                assert_eq!(total, Some(200_000));
                seen = n;
            },
        )
        .unwrap();
        assert_eq!(got, digest);
        assert_eq!(seen, 200_000);
        assert_eq!(std::fs::read(&dest).unwrap(), body);
    }

    #[test]
    fn checksums_round_trip_and_reject_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("SHA256SUMS");
        let mut sums = Checksums::load(&path).unwrap();
        assert_eq!(sums.get("a.gz"), None);
        sums.set("a.gz", &"ab".repeat(32));
        sums.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}  a.gz\n", "ab".repeat(32)));
        assert_eq!(
            Checksums::load(&path).unwrap().get("a.gz"),
            Some("ab".repeat(32).as_str())
        );
        std::fs::write(
            &path,
            format!("{}  a.gz\nnot a digest  b.gz\n", "ab".repeat(32)),
        )
        .unwrap();
        let err = Checksums::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(":2: expected `<sha256>  <file name>`"),
            "{err}"
        );
    }

    #[test]
    fn bad_digest_and_missing_source_are_errors() {
        assert!(matches!(parse_digest("abc"), Err(FetchError::BadDigest(_))));
        let dir = tempfile::tempdir().unwrap();
        let err = fetch("/no/such/file", &dir.path().join("x"), None, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("/no/such/file"), "{err}");
    }
}
