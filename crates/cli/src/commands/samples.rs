//! `recalign samples` and `recalign samples show`.

use std::io::Write;

use crate::progress;
use anyhow::{Context, Result};
use recalign_data::{Dataset, Split};
use recalign_samples::{Generator, SamplesConfig, Task, WriteOptions};

use crate::args::{
    DatasetArgs, GlobalArgs, SampleStyleArgs, SamplesArgs, SamplesCommand, ShowArgs,
};

/// The samples configuration: defaults, then the TOML file's `[samples]`
/// table, then flags (`--seed` seeds samples and preparation alike).
pub fn samples_config(dataset: &DatasetArgs, style: &SampleStyleArgs) -> Result<SamplesConfig> {
    let mut config = match &dataset.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            SamplesConfig::from_toml_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => SamplesConfig::default(),
    };
    if let Some(seed) = dataset.seed {
        config.seed = seed;
    }
    if let Some(style) = style.style {
        config.style = style;
    }
    if let Some(epochs) = style.epochs {
        config.epochs = epochs;
    }
    config.validate()?;
    Ok(config)
}

pub fn run(global: &GlobalArgs, args: &SamplesArgs) -> Result<()> {
    if let Some(SamplesCommand::Show(show)) = &args.command {
        return show_samples(global, show);
    }
    let out = args.out.as_deref().context("--out is required")?;
    let config = samples_config(&args.dataset, &args.samples)?;
    let loaded = super::load_dataset(global, &args.dataset)?;
    let dataset = &loaded.dataset;
    let generator = Generator::new(dataset, config)?;
    let options = WriteOptions {
        splits: args.splits.clone(),
        gzip: args.gzip,
        shard: args.shard.unwrap_or_default(),
    };
    let users = options.shard.users(dataset.num_users()).len() as u64;
    let passes: u64 = options
        .splits
        .iter()
        .map(|&s| {
            if s == Split::Train {
                generator.config().epochs as u64
            } else {
                1
            }
        })
        .sum();
    let bar = progress::bar(
        global.quiet,
        Some(users * passes),
        "{msg:.bold} [{bar:30}] {pos}/{len} users ({per_sec}, {eta})",
    );
    bar.set_message("writing samples");
    let start = std::time::Instant::now();
    let written = recalign_samples::write(&generator, out, &options, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", written.summary)?;
    let total: u64 = [Split::Train, Split::Valid, Split::Test]
        .iter()
        .map(|&s| written.summary.total(s))
        .sum();
    writeln!(
        stdout,
        "\n{total} samples in {seconds:.2} s ({:.0} samples/s); {} items shown by identifier only (no title){}",
        total as f64 / seconds.max(1e-9),
        generator.untitled_items(),
        if generator.has_ratings() {
            ""
        } else {
            "; no ratings: rating task skipped"
        }
    )?;
    for file in &written.files {
        writeln!(stdout, "wrote {}", file.display())?;
    }
    Ok(())
}

fn show_samples(global: &GlobalArgs, args: &ShowArgs) -> Result<()> {
    let config = samples_config(&args.dataset, &args.samples)?;
    let loaded = super::load_dataset(global, &args.dataset)?;
    let dataset: &Dataset = &loaded.dataset;
    let generator = Generator::new(dataset, config)?;
    if !generator.tasks(args.split).any(|t| t == args.task) {
        anyhow::bail!(
            "no {} samples for the {} split of {}{}",
            args.task,
            args.split,
            dataset.name,
            match (args.task, args.split) {
                (Task::Rating, _) if !generator.has_ratings() => ": the dataset has no ratings",
                (t, s) if s != Split::Train && !t.is_recommendation() =>
                    ": auxiliary tasks are training samples only",
                _ => "",
            }
        );
    }
    let mut stdout = std::io::stdout().lock();
    let mut shown = 0;
    for user in dataset.users() {
        if shown == args.count {
            break;
        }
        let samples = generator.user_samples(user, args.split, 0);
        let Some(sample) = samples.into_iter().find(|s| s.task == args.task) else {
            continue;
        };
        shown += 1;
        writeln!(
            stdout,
            "── {} · {} · {} · user {}",
            sample.task, sample.template, sample.split, sample.user
        )?;
        writeln!(stdout, "input:\n{}", wrap(&sample.input, 100, "  "))?;
        writeln!(stdout, "target:\n{}", wrap(&sample.target, 100, "  "))?;
        if !sample.target_items.is_empty() {
            writeln!(stdout, "target items: {}", sample.target_items.join(", "))?;
        }
        writeln!(stdout)?;
    }
    if shown == 0 {
        anyhow::bail!(
            "every user's {} sample was skipped (MLM needs item titles, MIM two history items, the prefix tasks two training items)",
            args.task
        );
    }
    Ok(())
}

/// Wraps `text` at `width` columns on spaces, indenting every line.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for paragraph in text.split('\n') {
        let mut line = String::from(indent);
        for word in paragraph.split(' ') {
            if line.len() > indent.len() && line.len() + 1 + word.len() > width {
                out.push_str(&line);
                out.push('\n');
                line = String::from(indent);
            }
            if line.len() > indent.len() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.pop();
    out
}
