//! The markdown report: per dataset, its statistics and protocol, then one
//! table per task in the layout of the paper's (a row per model, Hit@K and
//! NDCG@K or RMSE and MAE as columns), each value the mean ± sample standard
//! deviation over the seeds it was measured with, the best mean in bold.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::Results;
use crate::seeds::{self, Line, mean_std};

/// Tasks in the order the paper reports them.
const TASKS: &[&str] = &["retrieval", "ranking", "rating"];

/// The markdown report over `results`, linking `plots` (paths relative to
/// the report).
pub fn markdown(results: &[Results], plots: &[PathBuf]) -> String {
    let mut out = String::new();
    let mut runs: Vec<&str> = results.iter().map(|r| r.run.as_str()).collect();
    runs.dedup();
    let _ = writeln!(out, "# recalign report: {}\n", runs.join(", "));
    let _ = writeln!(
        out,
        "Each value is the mean ± sample standard deviation over the seeds in the \
         `seeds` column (no ± for one seed); the best mean of a column is in bold. \
         Higher is better for Hit and NDCG, lower for RMSE and MAE.\n"
    );
    out.push_str(&tables(results));
    stage_times(&mut out, results);
    if !plots.is_empty() {
        let _ = writeln!(out, "## Plots\n");
        for plot in plots {
            let name = plot.file_stem().and_then(|s| s.to_str()).unwrap_or("plot");
            let _ = writeln!(out, "![{name}]({})\n", plot.display());
        }
    }
    out
}

/// The result tables alone: per dataset its statistics, protocol and one
/// table per task (what `recalign run` prints at its end).
pub fn tables(results: &[Results]) -> String {
    let mut out = String::new();
    for dataset in datasets(results) {
        let cells: Vec<&Results> = results
            .iter()
            .filter(|r| r.dataset.name == dataset)
            .collect();
        dataset_section(&mut out, &cells);
    }
    out
}

/// Dataset names in the order they first appear.
fn datasets(results: &[Results]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for r in results {
        if !names.contains(&r.dataset.name.as_str()) {
            names.push(&r.dataset.name);
        }
    }
    names
}

fn dataset_section(out: &mut String, cells: &[&Results]) {
    let d = &cells[0].dataset;
    let mut identifiers: Vec<&str> = cells.iter().map(|c| c.dataset.id_scheme.as_str()).collect();
    identifiers.sort_unstable();
    identifiers.dedup();
    let _ = writeln!(out, "## {}\n", d.name);
    let _ = writeln!(
        out,
        "| users | items | interactions | density | interactions per user | item identifiers |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {:.5} | {:.2} | {} |\n",
        d.users,
        d.items,
        d.interactions,
        d.density,
        d.mean_length,
        identifiers.join("; ")
    );
    let mut protocols: Vec<&str> = cells.iter().map(|c| c.protocol.as_str()).collect();
    protocols.sort_unstable();
    protocols.dedup();
    let _ = writeln!(out, "Protocol: {}.\n", protocols.join("; "));
    for task in TASKS {
        let table = task_table(cells, task);
        if !table.is_empty() {
            let _ = writeln!(out, "### {}\n", capitalised(task));
            out.push_str(&table);
            out.push('\n');
        }
    }
}

/// The lines of `task` over `cells`: recalign's variants first, in order
/// of appearance; then the rest.
fn lines(cells: &[&Results], task: &str) -> Vec<Line> {
    let mut lines = seeds::lines(cells, task);
    lines.sort_by_key(|l| !l.label.starts_with("recalign"));
    lines
}

/// The columns of a task, as the paper shows them: Hit@1, Hit@5, NDCG@5,
/// Hit@10 and NDCG@10 for rankings (every cut-off and MRR stay in
/// `results.json`); RMSE and MAE for ratings.
fn columns(lines: &[Line]) -> Vec<String> {
    let has = |name: &str| lines.iter().any(|l| l.metrics.contains_key(name));
    [
        "hit@1", "hit@5", "ndcg@5", "hit@10", "ndcg@10", "rmse", "mae",
    ]
    .into_iter()
    .filter(|name| has(name))
    .map(str::to_string)
    .collect()
}

fn task_table(cells: &[&Results], task: &str) -> String {
    let lines = lines(cells, task);
    let columns = columns(&lines);
    if lines.is_empty() || columns.is_empty() {
        return String::new();
    }
    let lower_is_better = |c: &str| c == "rmse" || c == "mae";
    let best: Vec<Option<f64>> = columns
        .iter()
        .map(|c| {
            let means = lines
                .iter()
                .filter_map(|l| l.metrics.get(c))
                .map(|v| mean_std(v).0);
            if lower_is_better(c) {
                means.reduce(f64::min)
            } else {
                means.reduce(f64::max)
            }
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| model | seeds | {} |",
        columns
            .iter()
            .map(|c| display_name(c))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|---|---:|{}", "---:|".repeat(columns.len()));
    for line in &lines {
        let seeds = line.metrics.values().map(BTreeMap::len).max().unwrap_or(0);
        let cells: Vec<String> = columns
            .iter()
            .zip(&best)
            .map(|(c, best)| match line.metrics.get(c) {
                None => "–".to_string(),
                Some(values) => {
                    let (mean, std) = mean_std(values);
                    let text = match std {
                        Some(std) => format!("{mean:.4} ± {std:.4}"),
                        None => format!("{mean:.4}"),
                    };
                    if Some(mean) == *best && lines.len() > 1 {
                        format!("**{text}**")
                    } else {
                        text
                    }
                }
            })
            .collect();
        let _ = writeln!(out, "| {} | {seeds} | {} |", line.label, cells.join(" | "));
    }
    out
}

/// `ndcg@10` as `NDCG@10`, `rmse` as `RMSE`.
fn display_name(metric: &str) -> String {
    match metric.split_once('@') {
        Some(("hit", k)) => format!("Hit@{k}"),
        Some(("ndcg", k)) => format!("NDCG@{k}"),
        Some(("mrr", k)) => format!("MRR@{k}"),
        _ => metric.to_uppercase(),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

fn stage_times(out: &mut String, results: &[Results]) {
    let _ = writeln!(out, "## Stage times\n");
    let _ = writeln!(out, "| cell | stage | seconds |");
    let _ = writeln!(out, "|---|---|---:|");
    for r in results {
        let cell = if r.cell.is_empty() { "–" } else { &r.cell };
        for stage in &r.stages {
            let seconds = if stage.skipped {
                "reused".to_string()
            } else {
                format!("{:.1}", stage.seconds)
            };
            let _ = writeln!(out, "| {cell} | {} | {seconds} |", stage.name);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::tests::cell;

    #[test]
    fn seeds_of_a_variant_are_averaged_and_shared_baselines_counted_once() {
        let results = [
            cell("tasks=all", 1, 0.04),
            cell("tasks=all", 2, 0.06),
            cell("tasks=rec-only", 1, 0.08),
        ];
        let text = markdown(&results, &[PathBuf::from("plots/loss.svg")]);
        assert!(text.contains("## shop"), "{text}");
        assert!(
            text.contains("| 100 | 50 | 900 | 0.18000 | 9.00 | atomic |"),
            "{text}"
        );
        assert!(
            text.contains("Protocol: leave-one-out, test split."),
            "{text}"
        );
        // Mean 0.05 and sample std 0.0141 of 0.04 and 0.06.
        assert!(
            text.contains("| recalign · tasks=all | 2 | 0.1000 ± 0.0283 | 0.0500 ± 0.0141 |"),
            "{text}"
        );
        assert!(
            text.contains("| recalign · tasks=rec-only | 1 | **0.1600** | **0.0800** |"),
            "{text}"
        );
        // MostPopular appears once, measured under two seeds.
        assert_eq!(text.matches("| most-popular |").count(), 1, "{text}");
        assert!(
            text.contains("| most-popular | 2 | 0.0200 ± 0.0000 | 0.0100 ± 0.0000 |"),
            "{text}"
        );
        // Rating: lower is better, so the smallest RMSE is bold.
        assert!(text.contains("### Rating"), "{text}");
        assert!(text.contains("| model | seeds | RMSE | MAE |"), "{text}");
        assert!(text.contains("**1.0500 ± 0.0141**"), "{text}");
        assert!(text.contains("![loss](plots/loss.svg)"), "{text}");
        assert!(
            text.contains("| tasks=all,seed=2 | train | 3.0 |"),
            "{text}"
        );
    }
}
