//! MostPopular on the embedded shop, through the shared evaluation path.

use recalign_data::{Dataset, ItemIdx, Split};
use recalign_eval::{
    Evaluation, ModelInfo, Popularity, Protocol, ProtocolTask, evaluate_popularity,
    metrics_from_rankings, read_rankings,
};

use crate::util::{noise, shop};

/// A model that scores every item at random.
fn random<'d>(data: &'d Dataset, protocol: &'d Protocol, seed: u64) -> Evaluation<'d> {
    let mut eval = Evaluation::new(data, protocol).unwrap();
    for case in protocol.cases(data) {
        let user = u64::from(case.user().0);
        let scores: Vec<f64> = match &case.candidates {
            Some(candidates) => candidates
                .iter()
                .map(|c| noise(seed, user, u64::from(c.0)))
                .collect(),
            None => (0..data.num_items() as u64)
                .map(|i| noise(seed, user, i))
                .collect(),
        };
        eval.record_scores(&case, &scores).unwrap();
    }
    eval
}

#[test]
fn counts_come_from_training_only() {
    let data = shop();
    let counts = Popularity::from_training(data);
    let total: u64 = counts.counts().iter().map(|&c| u64::from(c)).sum();
    assert_eq!(
        total as usize,
        data.num_interactions() - 2 * data.num_users()
    );
    // An item's count is the number of training sequences holding it.
    let item = ItemIdx(3);
    let holders = data
        .users()
        .filter(|&u| data.train_sequence(u).iter().any(|e| e.item == item))
        .count();
    assert_eq!(counts.counts()[3] as usize, holders);
}

/// MostPopular and a seeded random model on the shop under `protocol`.
fn popularity_and_random(protocol: &Protocol) -> (Evaluation<'_>, Evaluation<'_>) {
    let data = shop();
    let pop = evaluate_popularity(data, protocol).unwrap();
    (pop, random(data, protocol, 7))
}

#[test]
fn popularity_beats_random_under_full_ranking() {
    let data = shop();
    let protocol = Protocol::retrieval(Split::Test);
    let (pop, rand) = popularity_and_random(&protocol);
    let (p, r) = (pop.ranking_metrics(), rand.ranking_metrics());
    assert_eq!(p.users(), data.num_users());
    assert_eq!(pop.users_skipped(), 0);
    for k in [5, 10, 20] {
        assert!(
            p.hit(k).unwrap() > 2.0 * r.hit(k).unwrap(),
            "hit@{k}: pop {} random {}",
            p.hit(k).unwrap(),
            r.hit(k).unwrap()
        );
        assert!(p.ndcg(k).unwrap() > r.ndcg(k).unwrap());
    }
    assert!(p.mrr() > r.mrr());
    // Random full ranking is near its expectation K / items.
    let expected = 20.0 / data.num_items() as f64;
    assert!(r.hit(20).unwrap() < 4.0 * expected);
}

#[test]
fn popularity_beats_random_under_candidate_ranking() {
    let protocol = Protocol::ranking(Split::Test);
    let (pop, rand) = popularity_and_random(&protocol);
    let (p, r) = (pop.ranking_metrics(), rand.ranking_metrics());
    assert!(p.hit(10).unwrap() > r.hit(10).unwrap() + 0.05);
    assert!(p.ndcg(10).unwrap() > r.ndcg(10).unwrap());
    // 1 in 100 candidates at random: hit@10 near 0.1.
    assert!((r.hit(10).unwrap() - 0.1).abs() < 0.05);
    for ranking in pop.rankings() {
        let rank = ranking.rank.unwrap();
        assert_eq!(ranking.ranked[rank], ranking.target);
        assert!(ranking.ranked.len() <= 100);
    }
}

#[test]
fn candidate_rankings_are_permutations_of_the_protocols_lists() {
    let data = shop();
    let protocol = Protocol::ranking(Split::Valid);
    let pop = evaluate_popularity(data, &protocol).unwrap();
    let counts = Popularity::from_training(data);
    for (case, ranking) in protocol.cases(data).zip(pop.rankings()) {
        let mut shown = case.candidates.clone().unwrap();
        let mut ranked = ranking.ranked.clone();
        shown.sort_unstable();
        ranked.sort_unstable();
        assert_eq!(shown, ranked);
        assert_eq!(ranking.target, case.target());
        // Ranked by count, best first.
        let c: Vec<u32> = ranking
            .ranked
            .iter()
            .map(|i| counts.counts()[i.index()])
            .collect();
        assert!(c.windows(2).all(|w| w[0] >= w[1]));
    }
}

#[test]
fn excluding_history_removes_it_and_never_hurts_a_rank() {
    let data = shop();
    let kept = Protocol::retrieval(Split::Test);
    let mut excluded = kept.clone();
    excluded.task = ProtocolTask::Retrieval {
        exclude_history: true,
    };
    let with = evaluate_popularity(data, &kept).unwrap();
    let without = evaluate_popularity(data, &excluded).unwrap();
    let mut improved = 0;
    for ((a, b), case) in with
        .rankings()
        .iter()
        .zip(without.rankings())
        .zip(excluded.cases(data))
    {
        assert!(b.rank.unwrap() <= a.rank.unwrap());
        improved += usize::from(b.rank < a.rank);
        for item in &b.ranked {
            assert!(
                *item == case.target() || !case.history().iter().any(|e| e.item == *item),
                "a history item is ranked"
            );
        }
    }
    assert!(
        improved > 0,
        "popular history items should have been removed"
    );
    assert!(without.ranking_metrics().hit(10).unwrap() >= with.ranking_metrics().hit(10).unwrap());
}

#[test]
fn ranked_lists_give_the_same_metrics_as_scores() {
    let data = shop();
    let protocol = Protocol::retrieval(Split::Valid);
    let pop = evaluate_popularity(data, &protocol).unwrap();
    let mut replay = Evaluation::new(data, &protocol).unwrap();
    for (case, ranking) in protocol.cases(data).zip(pop.rankings()) {
        replay.record_ranked(&case, &ranking.ranked).unwrap();
    }
    let (a, b) = (pop.ranking_metrics(), replay.ranking_metrics());
    for &k in a.ks() {
        assert_eq!(a.hit(k), b.hit(k));
        assert_eq!(a.ndcg(k), b.ndcg(k));
        assert_eq!(a.mrr_at(k), b.mrr_at(k));
    }
}

#[test]
fn written_rankings_recompute_the_report() {
    let data = shop();
    let dir = tempfile::tempdir().unwrap();
    for protocol in [
        Protocol::retrieval(Split::Test),
        Protocol::ranking(Split::Test),
    ] {
        let pop = evaluate_popularity(data, &protocol).unwrap();
        let report = pop.report(ModelInfo::new("most-popular"));
        let path = dir.path().join("rankings.jsonl");
        assert_eq!(pop.write_rankings(&path).unwrap(), data.num_users());
        let lines = read_rankings(&path).unwrap();
        assert_eq!(lines.len(), data.num_users());
        let first = data.users().next().unwrap();
        assert_eq!(lines[0].user, data.user_id(first));
        let again = metrics_from_rankings(&lines, &protocol.ks).unwrap();
        for (name, value) in again.values() {
            if name == "mrr" && protocol == Protocol::retrieval(Split::Test) {
                // Retrieval lines hold the top 20 only: full MRR is larger.
                assert!(report.metric("mrr").unwrap() >= value);
                continue;
            }
            assert_eq!(report.metric(&name), Some(value), "{name}");
        }
    }
}

#[test]
fn constant_scores_rank_every_target_last() {
    let data = shop();
    let protocol = Protocol::retrieval(Split::Test);
    let mut eval = Evaluation::new(data, &protocol).unwrap();
    let flat = vec![0.0f32; data.num_items()];
    for case in protocol.cases(data) {
        let rank = eval.record_scores(&case, &flat).unwrap();
        assert_eq!(rank, Some(data.num_items() - 1));
    }
    assert_eq!(eval.ranking_metrics().hit(20), Some(0.0));
}

#[test]
fn wrong_inputs_are_errors() {
    let data = shop();
    let protocol = Protocol::retrieval(Split::Test);
    let mut eval = Evaluation::new(data, &protocol).unwrap();
    let case = protocol.cases(data).next().unwrap();
    assert!(eval.record_scores(&case, &[1.0f32; 3]).is_err());
    let twice = [case.target(), case.target()];
    assert!(eval.record_ranked(&case, &twice).is_err());
    assert!(eval.record_rating(&case, 4.0).is_err());
    assert_eq!(eval.users_evaluated(), 0);

    let ranking = Protocol::ranking(Split::Test);
    let mut eval = Evaluation::new(data, &ranking).unwrap();
    let case = ranking.cases(data).next().unwrap();
    let history_item = case.history()[0].item;
    let err = eval.record_ranked(&case, &[history_item]).unwrap_err();
    assert!(err.to_string().contains("not a candidate"), "{err}");

    assert!(evaluate_popularity(data, &Protocol::rating(Split::Test)).is_err());
}

#[test]
fn ratings_are_evaluated_on_the_held_out_interaction() {
    let data = shop();
    let protocol = Protocol::rating(Split::Test);
    let mut eval = Evaluation::new(data, &protocol).unwrap();
    let (mut squared, mut absolute, mut n) = (0.0, 0.0, 0);
    for case in protocol.cases(data) {
        eval.record_rating(&case, 4.0).unwrap();
        let actual = f64::from(case.target_event().rating().unwrap());
        squared += (4.0 - actual) * (4.0 - actual);
        absolute += (4.0 - actual).abs();
        n += 1;
    }
    let report = eval.report(ModelInfo::new("always-4"));
    assert_eq!(report.users_evaluated, n);
    let rmse = (squared / n as f64).sqrt();
    assert!((report.metric("rmse").unwrap() - rmse).abs() < 1e-12);
    assert!((report.metric("mae").unwrap() - absolute / n as f64).abs() < 1e-12);
    assert_eq!(report.metrics.len(), 2);
}

#[test]
fn the_training_mean_rating_is_scored_by_hand() {
    let data = shop();
    // The mean, recomputed from the training sequences.
    let ratings: Vec<f64> = data
        .users()
        .flat_map(|u| data.train_sequence(u).iter().filter_map(|e| e.rating()))
        .map(f64::from)
        .collect();
    let mean = ratings.iter().sum::<f64>() / ratings.len() as f64;
    assert_eq!(recalign_eval::training_mean_rating(data), Some(mean));
    // Its RMSE and MAE over the test targets, by hand.
    let protocol = Protocol::rating(Split::Test);
    let targets: Vec<f64> = data
        .held_out_all(Split::Test)
        .filter_map(|h| h.target.rating())
        .map(f64::from)
        .collect();
    let rmse =
        (targets.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / targets.len() as f64).sqrt();
    let mae = targets.iter().map(|t| (t - mean).abs()).sum::<f64>() / targets.len() as f64;
    let metrics = recalign_eval::evaluate_mean_rating(data, &protocol, None)
        .unwrap()
        .metrics();
    assert!((metrics.get("rmse").unwrap() - rmse).abs() < 1e-12);
    assert!((metrics.get("mae").unwrap() - mae).abs() < 1e-12);
    // A rating floor predicts ratings, not rankings.
    assert!(
        recalign_eval::evaluate_mean_rating(data, &Protocol::retrieval(Split::Test), None).is_err()
    );
}
