//! No training sample names its user's validation or test item, in input,
//! target or target items; validation samples never name the test item.

use recalign_data::{Dataset, Split, UserIdx};
use recalign_samples::config::{CandidateTitles, RankingConfig, Style};
use recalign_samples::{Generator, SamplesConfig, Task};

use crate::util::{held_out_id, ids_in, shop};

fn raw_id(data: &Dataset, user: UserIdx, split: Split) -> String {
    let held = data.held_out(user, split).unwrap();
    data.item(held.target.item).raw_id.clone()
}

#[test]
fn training_samples_never_name_held_out_items() {
    let data = shop();
    // The shop never repeats an item within a user, so a held-out item
    // cannot legitimately appear in the training prefix.
    assert_eq!(data.report.repeated_interactions, 0);
    let config = SamplesConfig {
        ranking: RankingConfig {
            candidates: 20,
            candidate_titles: CandidateTitles::Always,
            ..Default::default()
        },
        ..SamplesConfig::default()
    };
    let g = Generator::new(data, config).unwrap();
    let mut checked = 0;
    for user in data.users() {
        let held: Vec<String> = [Split::Valid, Split::Test]
            .iter()
            .map(|&s| held_out_id(data, user, s))
            .collect();
        let held_raw: Vec<String> = [Split::Valid, Split::Test]
            .iter()
            .map(|&s| raw_id(data, user, s))
            .collect();
        for s in g.user_samples(user, Split::Train, 0) {
            assert_eq!(s.user, data.user_id(user));
            for id in ids_in(&s.input).iter().chain(&ids_in(&s.target)) {
                assert!(
                    !held.contains(id),
                    "{} sample names held-out item {id}:\n{}",
                    s.task,
                    s.input
                );
            }
            if s.task == recalign_samples::Task::Retrieval
                || s.task == recalign_samples::Task::Ranking
            {
                assert!(!held.contains(&s.target));
            }
            for item in &s.target_items {
                assert!(!held_raw.iter().any(|h| h == item));
            }
            checked += 1;
        }
        // Validation samples never name the test item.
        let test = &held[1];
        for s in g.user_samples(user, Split::Valid, 0) {
            assert!(!ids_in(&s.input).contains(test), "{}", s.input);
            if s.task != recalign_samples::Task::Rating {
                assert_ne!(&s.target, test);
            }
        }
    }
    assert!(checked > 5 * data.num_users());
}

#[test]
fn p5_training_samples_never_name_held_out_items() {
    let data = shop();
    let g = Generator::new(
        data,
        SamplesConfig {
            style: Style::P5,
            ..SamplesConfig::default()
        },
    )
    .unwrap();
    for user in data.users() {
        let held: Vec<String> = [Split::Valid, Split::Test]
            .iter()
            .map(|&s| held_out_id(data, user, s))
            .collect();
        for s in g.user_samples(user, Split::Train, 0) {
            let shown: Vec<&str> = match s.task {
                // P5 lists bare identifiers after the colon.
                Task::Retrieval | Task::Ranking => {
                    let list = &s.input[s.input.rfind(':').unwrap() + 1..];
                    list.split(|c: char| !c.is_ascii_digit())
                        .filter(|w| !w.is_empty())
                        .collect()
                }
                Task::Rating => s
                    .input
                    .split(' ')
                    .filter_map(|w| w.strip_prefix("item_"))
                    .collect(),
                _ => continue,
            };
            for id in &held {
                assert!(!shown.contains(&id.as_str()), "{}", s.input);
                if s.task != Task::Rating {
                    assert_ne!(&s.target, id);
                }
            }
        }
    }
}
