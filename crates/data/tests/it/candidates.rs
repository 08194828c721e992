//! Negatives and the ranking protocol's candidate lists.

use recalign_data::Split;
use recalign_data::candidates::{self, CandidateList};
use recalign_data::synthetic::SyntheticConfig;

use crate::util::synthetic_shop;

fn shop() -> recalign_data::Dataset {
    synthetic_shop(SyntheticConfig {
        seed: 4,
        users: 600,
    })
}

#[test]
fn lists_hold_the_target_once_and_only_never_bought_negatives() {
    let data = shop();
    for split in [Split::Valid, Split::Test] {
        for user in data.users() {
            let list = candidates::candidates_for(&data, user, split, 20, 7).unwrap();
            let target = data.held_out(user, split).unwrap().target.item;
            assert_eq!(list.iter().filter(|&&i| i == target).count(), 1);
            let bought = candidates::user_items(&data, user);
            for &item in list.iter().filter(|&&i| i != target) {
                assert!(
                    bought.binary_search(&item.0).is_err(),
                    "negative was bought"
                );
            }
            let mut unique = list.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 20);
            assert_eq!(
                list,
                candidates::candidates_for(&data, user, split, 20, 7).unwrap()
            );
        }
    }
    assert!(
        candidates::candidates_for(&data, data.users().next().unwrap(), Split::Train, 20, 7)
            .is_none()
    );
}

#[test]
fn too_small_a_catalogue_gives_every_allowed_item_once() {
    let data = shop();
    let user = data.users().next().unwrap();
    let bought = candidates::user_items(&data, user);
    let list = candidates::candidates_for(&data, user, Split::Test, 100_000, 1).unwrap();
    assert_eq!(list.len(), data.num_items() - bought.len() + 1);
}

#[test]
fn persisted_lists_read_back_and_bad_files_are_rejected() {
    let data = shop();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lists.jsonl");
    let lists = candidates::lists(&data, Split::Test, 30, 3);
    candidates::write_lists(&path, &lists).unwrap();
    assert_eq!(candidates::read_lists(&path, &data).unwrap(), lists);

    let first = &lists[0];
    let bad = |list: CandidateList, expected: &str| {
        let text = serde_json::to_string(&list).unwrap();
        std::fs::write(
            &path,
            format!("{}\n{text}\n", serde_json::to_string(first).unwrap()),
        )
        .unwrap();
        let err = candidates::read_lists(&path, &data)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("lists.jsonl:2: field `{expected}`")),
            "{err}"
        );
    };
    let mut twice = first.clone();
    twice.candidates[1] = twice.candidates[0].clone();
    bad(twice, "candidates");
    let mut unknown = first.clone();
    unknown.candidates[0] = "NOPE".to_string();
    bad(unknown, "candidates");
    let mut missing = first.clone();
    missing.candidates.retain(|c| *c != first.target);
    bad(missing, "target");
    let mut wrong = first.clone();
    wrong.target = wrong
        .candidates
        .iter()
        .find(|c| **c != first.target)
        .unwrap()
        .clone();
    bad(wrong, "target");
    let mut stranger = first.clone();
    stranger.user = "nobody".to_string();
    bad(stranger, "user");
}
