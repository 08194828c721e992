//! `recalign samples` and `recalign samples show`.

use std::io::Write;

use anyhow::{Context, Result};
use recalign_data::{Dataset, Split};
use recalign_samples::{Generator, Task, WriteOptions};

use crate::args::{GlobalArgs, SamplesArgs, SamplesCommand, ShowArgs};
use crate::progress;

pub fn run(global: &GlobalArgs, args: &SamplesArgs) -> Result<()> {
    if let Some(SamplesCommand::Show(show)) = &args.command {
        return show_samples(global, show);
    }
    let output = &args.output;
    let out = output.out.as_deref().context("--out is required")?;
    let data = args.dataset.resolve()?;
    let config = data.samples(&args.samples)?;
    let loaded = super::load_dataset(global, &data)?;
    let dataset = &loaded.dataset;
    let generator = Generator::new(dataset, config)?;
    let options = WriteOptions {
        splits: output.splits.iter().map(|&s| s.into()).collect(),
        gzip: output.gzip,
        shard: output.shard.unwrap_or_default(),
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
    let data = args.dataset.resolve()?;
    let config = data.samples(&args.samples)?;
    let loaded = super::load_dataset(global, &data)?;
    let dataset: &Dataset = &loaded.dataset;
    let generator = Generator::new(dataset, config)?;
    let (task, split): (Task, Split) = (args.task.into(), args.split.into());
    if !generator.tasks(split).any(|t| t == task) {
        anyhow::bail!(
            "no {task} samples for the {split} split of {}{}",
            dataset.name,
            match (task, split) {
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
        let samples = generator.user_samples(user, split, 0);
        let Some(sample) = samples.into_iter().find(|s| s.task == task) else {
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
            "every user's {task} sample was skipped (MLM needs item titles, MIM two history items, the prefix tasks two training items)"
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
