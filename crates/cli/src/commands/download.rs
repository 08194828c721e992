//! `recalign data download`: fetch McAuley's files with SHA-256 checks.
//!
//! The expected digest of each file is, in order: `--sha256 FILE=DIGEST`, or
//! the entry in `SHA256SUMS` beside it (from an earlier download, or one a
//! team commits). The digests of the official files are not published, so a
//! first download records what it received in `SHA256SUMS` for later checks.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result, bail};
use recalign_data::{Amazon, spec};
use recalign_fetch::{Checksums, fetch, parse_digest};

use crate::args::{DownloadArgs, GlobalArgs};
use crate::progress;

pub fn run(global: &GlobalArgs, args: &DownloadArgs) -> Result<()> {
    let amazon = Amazon::from(args.name);
    let mut expected = BTreeMap::new();
    for pair in &args.sha256 {
        let Some((file, digest)) = pair.split_once('=') else {
            bail!("--sha256 takes FILE=DIGEST, got `{pair}`");
        };
        expected.insert(file.to_string(), parse_digest(digest)?);
    }
    let dir = spec::data_dir(global.data_dir.as_deref()).join(amazon.name());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let sums_path = dir.join("SHA256SUMS");
    let mut sums = Checksums::load(&sums_path)?;
    let base = args
        .base_url
        .as_deref()
        .unwrap_or(Amazon::MCAULEY_BASE_URL)
        .trim_end_matches('/');
    let [reviews, meta] = amazon.mcauley_files();
    let files = if args.no_meta {
        vec![reviews]
    } else {
        vec![reviews, meta]
    };
    let mut out = std::io::stdout().lock();
    for file in files {
        let url = format!("{base}/{file}");
        let want = expected
            .get(&file)
            .cloned()
            .or_else(|| sums.get(&file).map(str::to_string));
        let bar = progress::bar(global.quiet, None, progress::BYTES);
        bar.set_message(format!("downloading {file}"));
        let digest = fetch(
            &url,
            &dir.join(&file),
            want.as_deref(),
            &mut |done, total| {
                if let Some(total) = total {
                    bar.set_length(total);
                }
                bar.set_position(done);
            },
        );
        bar.finish_and_clear();
        let digest = digest?;
        let status = if want.is_some() {
            "verified"
        } else {
            "recorded"
        };
        sums.set(&file, &digest);
        sums.save()?;
        writeln!(out, "{status} {digest}  {}", dir.join(&file).display())?;
    }
    Ok(())
}
