//! Protocols: defaults from paper.md, validation, serialisation, cases.

use recalign_data::Split;
use recalign_data::candidates::candidates_for;
use recalign_eval::{Protocol, ProtocolTask, Sampler};

use crate::util::shop;

#[test]
fn defaults_follow_the_paper() {
    let retrieval = Protocol::default();
    assert_eq!(retrieval.split, Split::Test);
    assert_eq!(
        retrieval.task,
        ProtocolTask::Retrieval {
            exclude_history: false
        }
    );
    assert_eq!(retrieval.ks, [1, 5, 10, 20]);
    assert_eq!(
        Protocol::ranking(Split::Valid).task,
        ProtocolTask::Ranking {
            candidates: 100,
            sampler: Sampler::Uniform,
            seed: 42
        }
    );
    assert_eq!(
        Protocol::ranking(Split::Test).to_string(),
        "test: ranking, 1 target + 99 uniform negatives (seed 42)"
    );
    assert_eq!(
        retrieval.to_string(),
        "test: retrieval, full ranking over the catalogue, history items kept"
    );
}

#[test]
fn invalid_protocols_are_rejected() {
    assert!(Protocol::retrieval(Split::Train).validate().is_err());
    let mut short = Protocol::ranking(Split::Test);
    short.task = ProtocolTask::Ranking {
        candidates: 1,
        sampler: Sampler::Uniform,
        seed: 1,
    };
    assert!(short.validate().is_err());
    let mut zero = Protocol::retrieval(Split::Valid);
    zero.ks = vec![0, 10];
    assert!(zero.validate().is_err());
    zero.ks.clear();
    assert!(zero.validate().is_err());
    let mut rating = Protocol::rating(Split::Valid);
    rating.ks.clear();
    assert!(rating.validate().is_ok());
}

#[test]
fn protocols_round_trip_through_json() {
    for protocol in [
        Protocol::retrieval(Split::Valid),
        Protocol::ranking(Split::Test),
        Protocol::rating(Split::Test),
    ] {
        let text = serde_json::to_string(&protocol).unwrap();
        let back: Protocol = serde_json::from_str(&text).unwrap();
        assert_eq!(back, protocol);
    }
    let text = serde_json::to_string(&Protocol::ranking(Split::Valid)).unwrap();
    assert_eq!(
        text,
        r#"{"split":"valid","task":{"kind":"ranking","candidates":100,"sampler":"uniform","seed":42},"ks":[1,5,10,20]}"#
    );
    let typo = r#"{"split":"test","task":{"kind":"retrieval","exclude_histroy":true}}"#;
    assert!(serde_json::from_str::<Protocol>(typo).is_err());
    let minimal = r#"{"split":"test","task":{"kind":"retrieval","exclude_history":true}}"#;
    let parsed: Protocol = serde_json::from_str(minimal).unwrap();
    assert!(parsed.excludes_history());
    assert_eq!(parsed.ks, [1, 5, 10, 20]);
}

#[test]
fn cases_follow_the_split_and_the_candidate_lists() {
    let data = shop();
    let protocol = Protocol::ranking(Split::Valid);
    let cases: Vec<_> = protocol.cases(data).collect();
    assert_eq!(cases.len(), data.num_users());
    for case in &cases {
        let seq = data.sequence(case.user());
        assert_eq!(case.target(), seq[seq.len() - 2].item);
        assert_eq!(case.history().len(), seq.len() - 2);
        let candidates = case.candidates.as_ref().unwrap();
        assert_eq!(
            Some(candidates.clone()),
            candidates_for(data, case.user(), Split::Valid, 100, 42)
        );
        assert!(case.excluded.is_empty());
    }
}

#[test]
fn excluded_items_are_the_history_without_the_target() {
    let data = shop();
    let mut protocol = Protocol::retrieval(Split::Test);
    assert!(
        protocol
            .cases(data)
            .all(|c| c.excluded.is_empty() && c.candidates.is_none())
    );
    protocol.task = ProtocolTask::Retrieval {
        exclude_history: true,
    };
    for case in protocol.cases(data) {
        let mut history: Vec<_> = case.history().iter().map(|e| e.item).collect();
        history.sort_unstable();
        history.dedup();
        history.retain(|&i| i != case.target());
        assert_eq!(case.excluded, history);
    }
}

#[test]
fn a_user_sample_is_a_seeded_subset_in_user_order() {
    use recalign_eval::UserSample;
    let data = shop();
    let protocol = Protocol::retrieval(Split::Valid);
    let all: Vec<_> = protocol.cases(data).map(|c| c.user()).collect();
    let users = |users: usize, seed: u64| -> Vec<_> {
        protocol
            .sampled_cases(data, Some(UserSample { users, seed }))
            .iter()
            .map(|c| c.user())
            .collect()
    };
    let a = users(300, 42);
    assert_eq!(a.len(), 300);
    assert_eq!(a, users(300, 42), "the same seed draws the same users");
    assert_ne!(a, users(300, 43));
    assert!(a.windows(2).all(|w| w[0] < w[1]), "in user order, distinct");
    assert_ne!(a, all[..300], "not simply the first users");
    assert!(a.iter().any(|u| u.index() >= all.len() / 2));
    assert_eq!(users(all.len() + 5, 1), all, "more than there are: all");
    assert_eq!(protocol.sampled_cases(data, None).len(), all.len());
}
