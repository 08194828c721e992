//! Rows across cells, grouped as every table and bar chart shows them: one
//! line per model (recalign once per grid variant, each baseline once),
//! holding each metric's values over seeds, summarised as mean ± sample
//! standard deviation.

use std::collections::BTreeMap;

use crate::results::Results;

/// One metric's values, one per seed.
pub(crate) type Samples = BTreeMap<u64, f64>;

/// A model's line: its label and its metrics' values over seeds.
pub(crate) struct Line {
    /// `recalign`, `recalign · VARIANT`, or the baseline's name.
    pub label: String,
    /// Metric name → values over seeds.
    pub metrics: BTreeMap<String, Samples>,
}

/// The label of `model`'s row in a cell of grid variant `variant`.
fn label(model: &str, variant: &str) -> String {
    match (model, variant) {
        ("recalign", "") => "recalign".to_string(),
        ("recalign", variant) => format!("recalign · {variant}"),
        (model, _) => model.to_string(),
    }
}

/// The lines of `task` over `cells`, in order of first appearance (a
/// baseline shared by cells of one seed counts once).
pub(crate) fn lines(cells: &[&Results], task: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for cell in cells {
        for row in cell.rows.iter().filter(|r| r.task == task) {
            let label = label(&row.model, &cell.variant);
            let index = match lines.iter().position(|l| l.label == label) {
                Some(i) => i,
                None => {
                    lines.push(Line {
                        label,
                        metrics: BTreeMap::new(),
                    });
                    lines.len() - 1
                }
            };
            for (name, value) in &row.metrics {
                lines[index]
                    .metrics
                    .entry(name.clone())
                    .or_default()
                    .insert(cell.seed, *value);
            }
        }
    }
    lines
}

/// The mean of `values` and, with two or more seeds, their sample standard
/// deviation.
pub(crate) fn mean_std(values: &Samples) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.values().sum::<f64>() / n;
    let std = (values.len() > 1).then(|| {
        let var = values.values().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        var.sqrt()
    });
    (mean, std)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_deviation() {
        let values = Samples::from([(1, 1.0), (2, 2.0), (3, 3.0)]);
        assert_eq!(mean_std(&values), (2.0, Some(1.0)));
        assert_eq!(mean_std(&Samples::from([(1, 0.5)])), (0.5, None));
    }
}
