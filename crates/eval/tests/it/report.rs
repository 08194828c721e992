//! Reports and rankings files: round trips, atomic writes, and errors that
//! name the file, line and field.

use std::path::Path;

use recalign_data::Split;
use recalign_eval::error::{FieldError, LineError};
use recalign_eval::report::VERSION;
use recalign_eval::{
    DatasetInfo, Error, Evaluation, Metrics, ModelInfo, Protocol, RankingLine, RankingsWriter,
    Report, evaluate_popularity, read_rankings,
};

use crate::util::shop;

fn report() -> Report {
    let metrics = Metrics::from(vec![
        ("hit@5".to_string(), 0.25),
        ("hit@10".to_string(), 0.5),
        ("ndcg@10".to_string(), 0.125),
        ("mrr".to_string(), 0.0625),
    ]);
    Report::new(
        DatasetInfo::of(shop()),
        ModelInfo::new("most-popular").with_description("training counts"),
        Protocol::retrieval(Split::Valid),
        metrics,
        (100, 3),
        2.0,
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn reports_round_trip_and_keep_metric_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let report = report();
    assert_eq!(report.split, Split::Valid);
    assert_eq!(report.users_per_second, 50.0);
    assert_eq!(report.recalign_version, VERSION);
    report.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("\"hit@5\"") < at("\"hit@10\"") && at("\"hit@10\"") < at("\"ndcg@10\""));
    assert!(text.contains("\"split\": \"valid\""));
    assert!(text.contains("\"users_skipped\": 3"));
    assert_eq!(Report::read(&path).unwrap(), report);
    // Rewriting replaces the file and leaves no temporary file behind.
    let mut other = report.clone();
    other.metrics.insert("hit@10", 0.75);
    other.write(&path).unwrap();
    assert_eq!(Report::read(&path).unwrap().metric("hit@10"), Some(0.75));
    assert_eq!(files_in(dir.path()), ["report.json"]);
}

#[test]
fn unreadable_reports_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, r#"{"metrics": {"hit@1": 0.1, "hit@1": 0.2}}"#).unwrap();
    let err = Report::read(&path).unwrap_err();
    assert!(matches!(err, Error::Report { .. }));
    assert!(err.to_string().contains("broken.json"), "{err}");
    assert!(Report::read(&dir.path().join("absent.json")).is_err());
}

#[test]
fn the_table_is_aligned() {
    let table = report().table();
    assert!(table.starts_with("dataset   synthetic ("), "{table}");
    assert!(table.contains("model     most-popular (training counts)"));
    assert!(table.contains("protocol  valid: retrieval, full ranking over the catalogue"));
    assert!(table.contains("users     100 evaluated, 3 skipped, 2.00 s (50 users/s)"));
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("metric"))
        .collect();
    assert_eq!(rows.len(), 5, "{table}");
    assert!(rows[2].starts_with("hit@10   0.5000"), "{table}");
    let ends: Vec<usize> = rows.iter().map(|r| r.len()).collect();
    assert!(ends.iter().all(|&e| e == ends[0]), "{table}");
}

#[test]
fn popularity_reports_carry_the_run() {
    let data = shop();
    let protocol = Protocol::ranking(Split::Test);
    let report = evaluate_popularity(data, &protocol)
        .unwrap()
        .report(ModelInfo::new("most-popular"));
    assert_eq!(report.users_evaluated, data.num_users());
    assert_eq!(report.dataset.items, data.num_items());
    assert_eq!(report.protocol, protocol);
    let names: Vec<&str> = report.metrics.iter().map(|(n, _)| n).collect();
    assert_eq!(names[..4], ["hit@1", "hit@5", "hit@10", "hit@20"]);
    assert_eq!(
        names[names.len() - 3..],
        ["mrr", "coverage@10", "overlap@10"]
    );
    assert!(report.seconds > 0.0 && report.users_per_second > 0.0);
}

/// The personalisation figures tell a model that ignores the user from one
/// that does not: MostPopular's full-ranking top 10 is nearly everyone's,
/// while each user's own shuffled candidate list is nearly no one else's.
#[test]
fn personalisation_figures_expose_a_model_that_ignores_the_user() {
    let data = shop();
    // Distinct items of the top-10 lists, and their mean overlap.
    let figures = |report: &Report| {
        let coverage = report.metric("coverage@10").unwrap();
        let distinct = coverage * data.num_items() as f64;
        (distinct, report.metric("overlap@10").unwrap())
    };
    let retrieval = Protocol::retrieval(Split::Test);
    let popular = evaluate_popularity(data, &retrieval)
        .unwrap()
        .report(ModelInfo::new("most-popular"));
    let (distinct, overlap) = figures(&popular);
    assert!(distinct <= 20.5 && overlap > 0.8, "{distinct} {overlap}");

    let ranking = Protocol::ranking(Split::Test);
    let mut eval = Evaluation::new(data, &ranking).unwrap();
    for case in ranking.cases(data) {
        eval.record_ranked(&case, case.candidates.as_deref().unwrap())
            .unwrap();
    }
    let (distinct, overlap) = figures(&eval.report(ModelInfo::new("own-lists")));
    assert!(distinct > 200.0 && overlap < 0.1, "{distinct} {overlap}");
}

#[test]
fn rankings_round_trip_and_appear_only_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rankings.jsonl");
    let lines = vec![
        RankingLine {
            user: "u1".into(),
            target: "b".into(),
            ranked: vec!["a".into(), "b".into()],
        },
        RankingLine {
            user: "u2".into(),
            target: "z".into(),
            ranked: vec![],
        },
    ];
    let mut writer = RankingsWriter::create(&path).unwrap();
    for line in &lines {
        writer.write(line).unwrap();
    }
    assert!(!path.exists());
    assert_eq!(writer.finish().unwrap(), 2);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().lines().next(),
        Some(r#"{"user":"u1","target":"b","ranked":["a","b"]}"#)
    );
    assert_eq!(read_rankings(&path).unwrap(), lines);

    let abandoned = dir.path().join("abandoned.jsonl");
    let mut writer = RankingsWriter::create(&abandoned).unwrap();
    writer.write(&lines[0]).unwrap();
    drop(writer);
    assert_eq!(files_in(dir.path()), ["rankings.jsonl"]);
}

#[test]
fn bad_rankings_name_the_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let good = r#"{"user":"u1","target":"a","ranked":["a"]}"#;
    let cases = [
        ("not json", None),
        ("[1, 2]", None),
        (r#"{"user":"u2","target":"a"}"#, Some("ranked")),
        (r#"{"user":"","target":"a","ranked":[]}"#, Some("user")),
        (r#"{"user":"u2","target":7,"ranked":[]}"#, Some("target")),
        (r#"{"user":"u2","target":"a","ranked":"a"}"#, Some("ranked")),
        (
            r#"{"user":"u2","target":"a","ranked":["a",1]}"#,
            Some("ranked"),
        ),
        (
            r#"{"user":"u2","target":"a","ranked":["a","a"]}"#,
            Some("ranked"),
        ),
        (
            r#"{"user":"u2","target":"a","ranked":[],"rank":0}"#,
            Some("rank"),
        ),
        (r#"{"user":"u1","target":"a","ranked":[]}"#, Some("user")),
    ];
    for (bad, field) in cases {
        std::fs::write(&path, format!("{good}\n\n{bad}\n")).unwrap();
        let err = read_rankings(&path).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("bad.jsonl:3"), "{bad}: {message}");
        match (field, &err) {
            (Some(expected), Error::Field(FieldError { line, field, .. })) => {
                assert_eq!((*line, field.as_str()), (3, expected), "{bad}");
            }
            (None, Error::Line(LineError { line, .. })) => assert_eq!(*line, 3),
            _ => panic!("{bad}: unexpected error {err:?}"),
        }
    }
}
