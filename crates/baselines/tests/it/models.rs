//! Every model trains and is evaluated through recalign-eval; the
//! sequential ones learn the shop's patterns within a few epochs.

use recalign_baselines::{
    BaselineConfig, Error, Model, Outcome, ProgressEvent, SasRecLoss, Silent, train_and_evaluate,
};
use recalign_data::Split;
use recalign_eval::{Protocol, evaluate_popularity, metrics_from_rankings, read_rankings};

use crate::util::{shop, tiny};

fn run(model: Model, config: &BaselineConfig) -> Outcome {
    let protocol = Protocol::retrieval(Split::Test);
    train_and_evaluate(shop(), model, config, &protocol, &mut Silent).expect("the run succeeds")
}

fn ndcg10(outcome: &Outcome) -> f64 {
    outcome
        .report
        .metric("ndcg@10")
        .expect("ndcg@10 is reported")
}

/// NDCG@10 of MostPopular on the shop's test split.
fn popularity_ndcg10() -> f64 {
    let protocol = Protocol::retrieval(Split::Test);
    let evaluation = evaluate_popularity(shop(), &protocol).unwrap();
    evaluation.metrics().get("ndcg@10").unwrap()
}

/// Expected NDCG@10 of a random full ranking of the catalogue.
fn random_ndcg10() -> f64 {
    let items = shop().num_items() as f64;
    (0..10).map(|r| 1.0 / ((r + 2) as f64).log2()).sum::<f64>() / items
}

fn check_complete(outcome: &Outcome) {
    let data = shop();
    assert_eq!(outcome.report.users_evaluated, data.num_users());
    assert_eq!(outcome.rankings.len(), data.num_users());
    assert_eq!(outcome.report.protocol.split, Split::Test);
    for (_, value) in outcome.report.metrics.iter() {
        assert!(value.is_finite() && (0.0..=1.0).contains(&value), "{value}");
    }
}

#[test]
fn most_popular_is_recalign_evals() {
    let outcome = run(Model::MostPopular, &BaselineConfig::default());
    check_complete(&outcome);
    assert_eq!(outcome.report.model.name, "most-popular");
    assert!((ndcg10(&outcome) - popularity_ndcg10()).abs() < 1e-12);
    assert!(outcome.epochs.is_empty() && outcome.best_epoch.is_none());
}

/// Trains `model` on tiny settings for `epochs` epochs at `learning_rate`,
/// validating only after the last, and checks the report is complete.
fn trained(model: Model, epochs: usize, learning_rate: f64) -> Outcome {
    let mut config = tiny(epochs);
    config.train.learning_rate = learning_rate;
    config.train.eval_every = epochs;
    let outcome = run(model, &config);
    check_complete(&outcome);
    outcome
}

/// Asserts the run's NDCG@10 exceeds `factor` times a reference's.
fn assert_beats(outcome: &Outcome, factor: f64, reference: &str, floor: f64) {
    let (name, model) = (outcome.model, ndcg10(outcome));
    eprintln!("{name} ndcg@10 {model:.4}, {reference} {floor:.4}");
    assert!(
        model > factor * floor,
        "{name} {model} vs {reference} {floor}"
    );
}

#[test]
fn sequential_models_learn() {
    // SASRec and GRU4Rec beat MostPopular; BERT4Rec, on fewer epochs, beats
    // a random ranking.
    let popularity = popularity_ndcg10();
    let cases = [
        (Model::SasRec, 3, 3e-3, 1.3, "most-popular", popularity),
        (Model::Gru4Rec, 3, 1e-2, 1.3, "most-popular", popularity),
        (Model::Bert4Rec, 2, 3e-3, 3.0, "random", random_ndcg10()),
    ];
    for (model, epochs, learning_rate, factor, reference, floor) in cases {
        let outcome = trained(model, epochs, learning_rate);
        assert_beats(&outcome, factor, reference, floor);
    }
}

#[test]
fn bpr_mf_validates_each_epoch_and_keeps_the_best() {
    let mut config = tiny(3);
    config.train.learning_rate = 1e-2;
    config.train.batch_size = 1024;
    let mut events = Vec::new();
    let mut progress = |event: &ProgressEvent<'_>| {
        events.push(match event {
            ProgressEvent::Started { batches, .. } => format!("started {batches}"),
            ProgressEvent::Batch { epoch, .. } => format!("batch {epoch}"),
            ProgressEvent::Epoch(record) => format!("epoch {}", record.epoch),
            ProgressEvent::Stopped { .. } => "stopped".to_string(),
            ProgressEvent::Testing { .. } => "testing".to_string(),
        })
    };
    let protocol = Protocol::retrieval(Split::Test);
    let outcome =
        train_and_evaluate(shop(), Model::BprMf, &config, &protocol, &mut progress).unwrap();
    check_complete(&outcome);
    assert!(events[0].starts_with("started"));
    assert_eq!(events.last().unwrap(), "testing");
    assert_eq!(events.iter().filter(|e| e.starts_with("epoch")).count(), 3);
    assert_eq!(outcome.epochs.len(), 3);
    let best = outcome
        .epochs
        .iter()
        .max_by(|a, b| a.valid_ndcg10.partial_cmp(&b.valid_ndcg10).unwrap())
        .unwrap();
    assert_eq!(outcome.best_epoch, Some(best.epoch));
    assert_eq!(outcome.best_valid_ndcg10, best.valid_ndcg10);
    assert!(best.best);
    assert_eq!(
        outcome.report.extra["best_epoch"],
        serde_json::json!(best.epoch)
    );
    assert_beats(&outcome, 3.0, "random", random_ndcg10());
}

#[test]
fn same_seed_same_run() {
    let mut config = tiny(1);
    config.sasrec.loss = SasRecLoss::Bce;
    config.sasrec.transformer.max_len = 10;
    let first = run(Model::SasRec, &config);
    let second = run(Model::SasRec, &config);
    assert_eq!(first.epochs[0].loss, second.epochs[0].loss);
    assert_eq!(first.report.metrics, second.report.metrics);
    assert_eq!(first.rankings, second.rankings);
    config.train.seed += 1;
    let other = run(Model::SasRec, &config);
    assert_ne!(first.epochs[0].loss, other.epochs[0].loss);
    assert_ne!(first.rankings, other.rankings);
}

#[test]
fn ranking_protocol_and_rankings_file() {
    let mut config = tiny(1);
    config.train.batch_size = 2048;
    let protocol = Protocol::ranking(Split::Test);
    let outcome =
        train_and_evaluate(shop(), Model::BprMf, &config, &protocol, &mut Silent).unwrap();
    assert_eq!(outcome.report.users_evaluated, shop().num_users());
    assert!(outcome.rankings.iter().all(|r| r.ranked.len() == 100));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rankings.jsonl");
    assert_eq!(
        outcome.write_rankings(shop(), &path).unwrap(),
        shop().num_users()
    );
    let lines = read_rankings(&path).unwrap();
    let recomputed = metrics_from_rankings(&lines, &protocol.ks).unwrap();
    for (name, value) in recomputed.values() {
        let reported = outcome.report.metric(&name).unwrap();
        assert!(
            (value - reported).abs() < 1e-9,
            "{name}: {value} vs {reported}"
        );
    }
}

#[test]
fn rating_protocol_is_refused() {
    let protocol = Protocol::rating(Split::Test);
    let err =
        train_and_evaluate(shop(), Model::SasRec, &tiny(1), &protocol, &mut Silent).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("rating"), "{err}");
}
