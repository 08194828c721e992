//! `recalign run CONFIG` and `recalign report`: the whole pipeline at a
//! tiny size, its reuse of finished stages, its resumption after Ctrl-C,
//! and the bad configurations it refuses before any stage runs.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{assert_files, fails, read_json, recalign, succeeds, write_fixture};

/// A small experiment on the embedded shop: a few steps, a few users.
const SMALL: &str = "\
name = \"small\"
[prepare]
id_scheme = \"atomic\"
[train]
max_steps = 12
eval_every = 6
valid_users = 12
batch_size = 8
[evaluate]
users = 24
[baselines]
models = [\"most-popular\", \"sasrec\"]
train = { epochs = 1 }
";

/// `recalign run FILE --runs-dir DIR` with `text` as FILE, in `dir`.
fn run_in(dir: &Path, cache: &Path, text: &str) -> assert_cmd::Command {
    let file = write_fixture(dir, "exp.toml", text);
    let mut cmd = recalign(cache);
    cmd.current_dir(dir)
        .arg("run")
        .arg(&file)
        .arg("--runs-dir")
        .arg(dir.join("runs"));
    cmd
}

#[test]
fn a_run_prints_the_table_writes_the_report_and_reuses_finished_stages() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = succeeds(
        &mut run_in(dir.path(), cache.path(), SMALL),
        &[
            "## synthetic",
            "### Retrieval",
            "### Ranking",
            "### Rating",
            "| model | seeds | Hit@1 |",
            "| recalign | 1 |",
            "| random | 1 |",
            "| most-popular | 1 |",
            "| sasrec | 1 |",
            "| model | seeds | RMSE | MAE |",
            "| train-mean | 1 |",
            "stage times:",
            "train",
            "report: ",
        ],
    );
    let stdout = String::from_utf8(first.get_output().stdout.clone()).unwrap();
    let run = dir.path().join("runs/small");
    assert_files(
        &run,
        &[
            "run.json",
            "config.toml",
            "settings.json",
            "dataset-synthetic.json",
            "results.json",
            "report.md",
            "model/curves.csv",
            "model/best/model.safetensors",
            "model/best/selection.json",
            "eval/retrieval/report.json",
            "eval/retrieval/rankings.jsonl",
            "eval/ranking/rankings.jsonl",
            "eval/rating/report.json",
            "plots/synthetic-loss.svg",
            "plots/synthetic-valid-ndcg.svg",
            "plots/synthetic-retrieval-bars.svg",
            "plots/synthetic-ranking-bars.svg",
            "plots/synthetic-rating-bars.svg",
        ],
    );
    let results = read_json(&run.join("results.json"));
    let rows = results["rows"].as_array().unwrap();
    let models: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["model"].as_str().unwrap(), r["task"].as_str().unwrap()))
        .collect();
    assert_eq!(
        models,
        [
            ("recalign", "retrieval"),
            ("random", "retrieval"),
            ("most-popular", "retrieval"),
            ("sasrec", "retrieval"),
            ("recalign", "ranking"),
            ("random", "ranking"),
            ("most-popular", "ranking"),
            ("sasrec", "ranking"),
            ("recalign", "rating"),
            ("train-mean", "rating"),
        ]
    );
    // The model and the baselines were measured on the same 24 users.
    assert!(rows.iter().all(|r| r["users"] == 24), "{rows:?}");
    assert_eq!(results["curve"].as_array().unwrap().len(), 3);
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("| users | items | interactions |"));
    assert!(report.contains("24 users drawn with seed 0"), "{report}");
    assert!(report.contains("![synthetic-loss](plots/synthetic-loss.svg)"));

    // The same command again: every stage is reused, the numbers identical.
    let second = succeeds(&mut run_in(dir.path(), cache.path(), SMALL), &["reused"]);
    let stderr = String::from_utf8(second.get_output().stderr.clone()).unwrap();
    for stage in [
        "samples",
        "train",
        "evaluate retrieval",
        "baseline sasrec ranking",
    ] {
        assert!(
            stderr.contains(&format!("] {stage}: reused")),
            "{stage} was not reused: {stderr}"
        );
    }
    let again = String::from_utf8(second.get_output().stdout.clone()).unwrap();
    let table = |s: &str| s.split("stage times:").next().unwrap().to_string();
    assert_eq!(table(&again), table(&stdout));

    // The report command rebuilds the same tables from results.json alone.
    let out = dir.path().join("report");
    succeeds(
        recalign(cache.path())
            .arg("report")
            .arg(&run)
            .arg("--out")
            .arg(&out),
        &["### Ranking", "| sasrec | 1 |"],
    );
    assert_files(&out, &["report.md", "plots/synthetic-rating-bars.svg"]);

    // Changed settings under the same name are refused, then forced; the
    // samples, whose settings are unchanged, are kept.
    let changed = SMALL.replace("max_steps = 12", "max_steps = 6");
    fails(
        &mut run_in(dir.path(), cache.path(), &changed),
        &["run.json", "other settings", "--force"],
    );
    let forced = succeeds(
        run_in(dir.path(), cache.path(), &changed).arg("--force"),
        &["| recalign | 1 |"],
    );
    let stderr = String::from_utf8(forced.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("] samples: reused"), "{stderr}");
    assert!(!stderr.contains("] train: reused"), "{stderr}");
}

#[test]
fn a_grid_runs_its_cells_and_reports_mean_and_deviation() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let grid = "\
name = \"grid\"
seeds = [1, 2]
[train]
max_steps = 4
valid_users = 0
[evaluate]
tasks = [\"rating\", \"ranking\"]
users = 10
[grid.tasks.rec-only]
samples.mim.per_user = 0
samples.mlm.per_user = 0
samples.bpr.per_user = 0
[grid.tasks.all]
";
    succeeds(
        &mut run_in(dir.path(), cache.path(), grid),
        &[
            "| recalign · tasks=all | 2 |",
            "| recalign · tasks=rec-only | 2 |",
            " ± ",
            "| most-popular | 2 |",
        ],
    );
    let cells = dir.path().join("runs/grid/cells");
    for cell in ["tasks-all_seed-1", "tasks-rec-only_seed-2"] {
        assert_files(
            &cells.join(cell),
            &["results.json", "model/model.safetensors"],
        );
    }
    // Two sample sets (one per mixture), shared by the seeds.
    let samples = std::fs::read_dir(dir.path().join("runs/grid/samples"))
        .unwrap()
        .count();
    assert_eq!(samples, 2);
}

/// Waits until `path` is a folder with an entry, or panics after a minute.
fn wait_for_entries(path: &Path, child: &mut std::process::Child) {
    let start = Instant::now();
    while !std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some()) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the run ended ({status}) before {} appeared",
                path.display()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_during_training_leaves_a_run_that_continues() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let text = "\
name = \"stop\"
[train]
max_steps = 60
save_every = 2
valid_users = 0
[evaluate]
tasks = [\"retrieval\"]
users = 10
";
    let file = write_fixture(dir.path(), "exp.toml", text);
    let runs = dir.path().join("runs");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("recalign"))
        .env("RECALIGN_CACHE", cache.path())
        .env_remove("RECALIGN_DATA")
        .arg("run")
        .arg(&file)
        .arg("--runs-dir")
        .arg(&runs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let model = runs.join("stop/model");
    wait_for_entries(&model.join("checkpoints"), &mut child);
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted during train"), "{stderr}");
    let record = read_json(&model.join("stage.json"));
    assert_eq!(record["finished"], false);
    assert!(!runs.join("stop/results.json").exists());

    let rerun = succeeds(
        &mut run_in(dir.path(), cache.path(), text),
        &["| recalign | 1 |"],
    );
    let stderr = String::from_utf8(rerun.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("] samples: reused"), "{stderr}");
    let resumed = stderr
        .lines()
        .find_map(|l| l.split("resumed training at step ").nth(1))
        .unwrap_or_else(|| panic!("training did not resume: {stderr}"));
    let step: u64 = resumed.split_whitespace().next().unwrap().parse().unwrap();
    assert!((2..60).contains(&step), "resumed at {step}");
    assert_eq!(read_json(&model.join("stage.json"))["finished"], true);
    assert_eq!(read_json(&model.join("train-summary.json"))["steps"], 60);
}

#[test]
fn bad_configs_fail_before_any_stage_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut no_ratings = String::from("user,item,timestamp\n");
    for user in 0..20 {
        for k in 0..6 {
            no_ratings.push_str(&format!("u{user},i{},{}\n", (user + k) % 10, 100 + k));
        }
    }
    let csv = write_fixture(dir.path(), "plain.csv", &no_ratings);
    let cases = [
        ("colour = \"blue\"\n", "unknown key `colour`"),
        ("[train]\nmax_stepz = 3\n", "max_stepz"),
        (
            "[samples.retrieval]\nper_user = 0\n[samples.ranking]\nper_user = 0\n\
             [samples.rating]\nper_user = 0\n[samples.mim]\nper_user = 0\n\
             [samples.mlm]\nper_user = 0\n[samples.bpr]\nper_user = 0\n",
            "no samples",
        ),
        (
            "[samples.ranking]\ncandidates = 5000\n",
            "samples.ranking.candidates: 5000 candidates, but `synthetic` has only",
        ),
        (
            &format!(
                "dataset = \"{}\"\n[train]\nvalid_users = 5\n[samples.ranking]\ncandidates = 5\n",
                csv.display()
            ),
            "has no ratings to predict",
        ),
        (
            "[model]\nfrom_pretrained = \"no/such/flan-t5\"\n",
            "model.from_pretrained: no/such/flan-t5 has no config.json",
        ),
        (
            "[evaluate]\nusers = 100000\n",
            "evaluate.users: 100000 is more than",
        ),
    ];
    for (text, expected) in cases {
        fails(&mut run_in(dir.path(), cache.path(), text), &[expected]);
        assert!(
            !dir.path().join("runs").exists(),
            "{expected}: a stage wrote into the runs folder"
        );
    }
    // A run folder from an incompatible recalign is refused as well.
    let old = dir.path().join("runs/exp");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(
        old.join("run.json"),
        r#"{"format": 99, "recalign": "9.0.0", "name": "exp", "settings": "x"}"#,
    )
    .unwrap();
    fails(
        &mut run_in(dir.path(), cache.path(), ""),
        &["run.json", "recalign 9.0.0", "run layout 99"],
    );
    assert_eq!(std::fs::read_dir(&old).unwrap().count(), 1);
}

/// A cell trained on P5's wording is tested in P5's wording: the pipeline
/// asks each model in its own cell's samples settings.
#[test]
fn a_cell_is_tested_in_the_wording_it_was_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let text = "\
name = \"p5\"
[samples]
style = \"p5\"
[train]
max_steps = 2
valid_users = 0
batch_size = 4
[evaluate]
tasks = [\"retrieval\"]
users = 4
";
    run_in(dir.path(), cache.path(), text).assert().success();
    let report = read_json(&dir.path().join("runs/p5/eval/retrieval/report.json"));
    let description = report["model"]["description"].as_str().unwrap();
    assert!(description.contains("p5 wording"), "{description}");
}
