//! SVG plots with `plotters` (pure Rust, no system fonts or libraries): per
//! dataset, the training and validation loss against steps, validation
//! NDCG@K against steps and against wall time (a line per cell), and per
//! task a bar per model of its headline metric with the standard deviation
//! over seeds as error bars.

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::seeds;
use crate::{Error, Result, Results};

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 420;

/// Draws every plot about `results` into `dir`, returning their paths.
pub fn plots(results: &[Results], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut datasets: Vec<&str> = Vec::new();
    for r in results {
        if !datasets.contains(&r.dataset.name.as_str()) {
            datasets.push(&r.dataset.name);
        }
    }
    for dataset in datasets {
        let cells: Vec<&Results> = results
            .iter()
            .filter(|r| r.dataset.name == dataset)
            .collect();
        let stem = slug(dataset);
        if cells.iter().any(|c| !c.curve.is_empty()) {
            let path = dir.join(format!("{stem}-loss.svg"));
            draw(&path, (WIDTH, HEIGHT), |root| losses(root, &cells))?;
            written.push(path);
        }
        if cells
            .iter()
            .any(|c| c.curve.iter().any(|p| p.valid_ndcg.is_some()))
        {
            let path = dir.join(format!("{stem}-valid-ndcg.svg"));
            draw(&path, (WIDTH, HEIGHT), |root| valid_ndcg(root, &cells))?;
            written.push(path);
        }
        for task in ["retrieval", "ranking", "rating"] {
            let bars = task_bars(&cells, task);
            if bars.values.is_empty() {
                continue;
            }
            let path = dir.join(format!("{stem}-{task}-bars.svg"));
            let height = 120 + 34 * bars.values.len() as u32;
            draw(&path, (WIDTH, height), |root| draw_bars(root, &bars))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// A file-name-safe form of `name`.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error + 'static>>;

/// Draws into a fresh SVG at `path`, written only once complete.
fn draw(path: &Path, size: (u32, u32), paint: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&e))?;
        paint(&root).map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
    }
    recalign_runtime::write_atomically(path, svg.as_bytes())?;
    Ok(())
}

/// A line's label: the cell, or `recalign` for a one-cell run.
fn label(cell: &Results) -> String {
    if cell.cell.is_empty() {
        "recalign".to_string()
    } else {
        cell.cell.clone()
    }
}

/// The range `values` span, padded so a flat line stays visible.
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad)..(hi + pad)
}

/// One panel: `series` (label, points) against the named axes.
fn panel(
    area: &Area<'_>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> DrawResult {
    let x = span(series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)));
    let y = span(series.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(WHITE)
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Each cell's curve points where `value` has a value, against `x`.
fn curves(
    cells: &[&Results],
    x: impl Fn(&crate::CurvePoint) -> f64,
    value: impl Fn(&crate::CurvePoint) -> Option<f64>,
) -> Vec<(String, Vec<(f64, f64)>)> {
    cells
        .iter()
        .map(|c| {
            let points = c
                .curve
                .iter()
                .filter_map(|p| value(p).map(|v| (x(p), v)))
                .collect();
            (label(c), points)
        })
        .filter(|(_, points): &(String, Vec<(f64, f64)>)| !points.is_empty())
        .collect()
}

fn losses(root: &Area<'_>, cells: &[&Results]) -> DrawResult {
    let (left, right) = root.split_horizontally(WIDTH / 2);
    let step = |p: &crate::CurvePoint| p.step as f64;
    panel(
        &left,
        "training loss",
        "step",
        "cross-entropy",
        &curves(cells, step, |p| p.train_loss),
    )?;
    panel(
        &right,
        "validation loss",
        "step",
        "cross-entropy",
        &curves(cells, step, |p| p.valid_loss),
    )
}

fn valid_ndcg(root: &Area<'_>, cells: &[&Results]) -> DrawResult {
    let (left, right) = root.split_horizontally(WIDTH / 2);
    let ndcg = |p: &crate::CurvePoint| p.valid_ndcg;
    panel(
        &left,
        "validation NDCG@10 by step",
        "step",
        "NDCG@10",
        &curves(cells, |p| p.step as f64, ndcg),
    )?;
    panel(
        &right,
        "validation NDCG@10 by wall time",
        "seconds",
        "NDCG@10",
        &curves(cells, |p| p.seconds, ndcg),
    )
}

/// A task's bars: a model per bar, the mean over seeds and its deviation.
struct Bars {
    title: String,
    metric: String,
    values: Vec<(String, f64, f64)>,
}

/// The headline metric of `task` per model (recalign per variant).
fn task_bars(cells: &[&Results], task: &str) -> Bars {
    let metric = if task == "rating" { "rmse" } else { "ndcg@10" };
    let values = seeds::lines(cells, task)
        .into_iter()
        .filter_map(|line| {
            let (mean, std) = seeds::mean_std(line.metrics.get(metric)?);
            Some((line.label, mean, std.unwrap_or(0.0)))
        })
        .collect();
    let shown = if metric == "rmse" { "RMSE" } else { "NDCG@10" };
    Bars {
        title: format!("{task}: {shown} (mean ± std over seeds)"),
        metric: shown.to_string(),
        values,
    }
}

fn draw_bars(root: &Area<'_>, bars: &Bars) -> DrawResult {
    let n = bars.values.len();
    let top = bars
        .values
        .iter()
        .map(|(_, m, s)| m + s)
        .fold(0.0_f64, f64::max)
        .max(1e-6)
        * 1.1;
    let names: Vec<String> = bars
        .values
        .iter()
        .map(|(name, _, _)| name.clone())
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(&bars.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(260)
        .build_cartesian_2d(0.0..top, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .x_desc(bars.metric.as_str())
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .light_line_style(WHITE)
        .draw()?;
    for (i, (_, mean, std)) in bars.values.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (*mean, SegmentValue::Exact(i + 1)),
            ],
            color.filled(),
        );
        bar.set_margin(6, 6, 0, 0);
        chart.draw_series(std::iter::once(bar))?;
        if *std > 0.0 {
            let at = SegmentValue::CenterOf(i);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![((mean - std).max(0.0), at.clone()), (mean + std, at)],
                BLACK.stroke_width(2),
            )))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::tests::cell;

    #[test]
    fn every_plot_is_a_complete_svg_naming_its_series() {
        let dir = tempfile::tempdir().unwrap();
        let results = [
            cell("tasks=all", 1, 0.04),
            cell("tasks=all", 2, 0.06),
            cell("tasks=rec-only", 1, 0.08),
        ];
        let written = plots(&results, dir.path()).unwrap();
        let names: Vec<_> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "shop-loss.svg",
                "shop-valid-ndcg.svg",
                "shop-retrieval-bars.svg",
                "shop-rating-bars.svg"
            ]
        );
        for path in &written {
            let svg = std::fs::read_to_string(path).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{}",
                path.display()
            );
        }
        let ndcg = std::fs::read_to_string(&written[1]).unwrap();
        assert!(ndcg.contains("tasks=rec-only,seed=1") && ndcg.contains("by wall time"));
        let bars = std::fs::read_to_string(&written[2]).unwrap();
        for label in [
            "recalign · tasks=all",
            "recalign · tasks=rec-only",
            "most-popular",
        ] {
            assert!(bars.contains(label), "{label} missing");
        }
    }
}
