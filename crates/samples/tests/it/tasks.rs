//! Each task's samples: counts, splits, targets, templates and budgets.

use recalign_data::Split;
use recalign_samples::config::{CandidateTitles, PerUser, Style};
use recalign_samples::{Sample, SamplesConfig, Task};

use crate::util::{
    all_samples, generator, held_out_id, ids_in, sentinel_parts, shop, unmask_history,
};

#[test]
fn all_six_tasks_and_the_p5_variant_generate() {
    let g = generator(SamplesConfig::default());
    let train = all_samples(&g, Split::Train);
    for task in Task::ALL {
        assert!(train.iter().any(|s| s.task == task), "no {task} samples");
    }
    let p5 = generator(SamplesConfig {
        style: Style::P5,
        ..SamplesConfig::default()
    });
    for split in [Split::Train, Split::Test] {
        let samples = all_samples(&p5, split);
        for task in [Task::Retrieval, Task::Ranking, Task::Rating] {
            let s = samples.iter().find(|s| s.task == task).unwrap();
            assert!(s.template.starts_with("p5-"), "{}", s.template);
            assert!(s.input.contains("user_"), "{}", s.input);
            assert!(!s.input.contains("title:"), "{}", s.input);
        }
    }
    // Held-out splits have recommendation tasks only, on the pinned template.
    for split in [Split::Valid, Split::Test] {
        let samples = all_samples(&g, split);
        assert!(samples.iter().all(|s| s.task.is_recommendation()));
        assert!(
            samples.iter().all(|s| s.template.ends_with("-1")),
            "pinned template"
        );
        assert_eq!(
            samples.iter().filter(|s| s.task == Task::Retrieval).count(),
            shop().num_users()
        );
    }
}

#[test]
fn retrieval_trains_on_every_prefix_and_predicts_held_out_items() {
    let data = shop();
    let g = generator(SamplesConfig::default());
    let train = all_samples(&g, Split::Train);
    let expected: usize = data.users().map(|u| data.train_sequence(u).len() - 1).sum();
    assert_eq!(
        train.iter().filter(|s| s.task == Task::Retrieval).count(),
        expected
    );
    for split in [Split::Valid, Split::Test] {
        for user in data.users() {
            let samples = g.user_samples(user, split, 0);
            let s = samples.iter().find(|s| s.task == Task::Retrieval).unwrap();
            assert_eq!(s.target, held_out_id(data, user, split));
            // The history ends with the item just before the held-out one:
            // the validation item, for the test split.
            let held = data.held_out(user, split).unwrap();
            let last = held.history.last().unwrap();
            assert_eq!(
                ids_in(&s.input).last().unwrap(),
                &data.item(last.item).identifier
            );
        }
    }
}

#[test]
fn ranking_candidates_hold_the_target_exactly_once() {
    let data = shop();
    for size in [10, 100] {
        let config = SamplesConfig {
            ranking: recalign_samples::config::RankingConfig {
                candidates: size,
                candidate_titles: CandidateTitles::Always,
                ..Default::default()
            },
            ..SamplesConfig::default()
        };
        let g = generator(config);
        for split in [Split::Train, Split::Valid, Split::Test] {
            for s in all_samples(&g, split)
                .iter()
                .filter(|s| s.task == Task::Ranking)
            {
                // Where each ranking template starts its candidate list.
                let start = ["candidates: ", "Candidates: ", "among: "]
                    .iter()
                    .find_map(|m| s.input.find(m))
                    .unwrap_or_else(|| panic!("no candidate list: {}", s.input));
                let listed = &s.input[start..];
                let ids = ids_in(listed);
                // The small shop may have fewer never-bought items than asked.
                let user = data.user_by_raw_id(s.user).unwrap();
                let bought = recalign_data::candidates::user_items(data, user).len();
                assert_eq!(ids.len(), size.min(data.num_items() - bought + 1));
                assert_eq!(
                    ids.iter().filter(|id| **id == s.target).count(),
                    1,
                    "{}",
                    s.input
                );
                let mut unique = ids.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), ids.len(), "duplicate candidates");
            }
        }
    }
    // Held-out lists are the persisted protocol lists.
    let g = generator(SamplesConfig::default());
    let user = data.users().nth(5).unwrap();
    let sample = g
        .user_samples(user, Split::Test, 0)
        .into_iter()
        .find(|s| s.task == Task::Ranking)
        .unwrap();
    let list = recalign_data::candidates::candidates_for(data, user, Split::Test, 100, 42).unwrap();
    let ids: Vec<String> = list
        .iter()
        .map(|&i| data.item(i).identifier.clone())
        .collect();
    assert!(sample.input.contains(&ids.join(", ")), "{}", sample.input);
}

#[test]
fn rating_targets_are_the_ratings_and_histories_show_them() {
    let data = shop();
    let g = generator(SamplesConfig::default());
    for user in data.users().take(50) {
        let samples = g.user_samples(user, Split::Test, 0);
        let s = samples.iter().find(|s| s.task == Task::Rating).unwrap();
        let rating = data
            .held_out(user, Split::Test)
            .unwrap()
            .target
            .rating()
            .unwrap();
        assert_eq!(s.target, format!("{rating}"));
        assert!(s.input.contains(", rating: "));
    }
}

/// The default generator's training samples of a masking `task`, each with
/// the texts after the sentinels of its target.
fn masked_samples(task: Task) -> Vec<(Sample<'static>, Vec<String>)> {
    let g = generator(SamplesConfig::default());
    all_samples(&g, Split::Train)
        .into_iter()
        .filter(|s| s.task == task)
        .map(|s| {
            let parts = sentinel_parts(&s.target);
            (s, parts)
        })
        .collect()
}

#[test]
fn mim_targets_reconstruct_the_masked_items() {
    let data = shop();
    let mut masked_total = 0;
    for (s, parts) in &masked_samples(Task::MaskedItemModeling) {
        assert_eq!(parts.len(), s.target_items.len());
        masked_total += parts.len();
        let shown = unmask_history(data, s);
        // At least one item is masked and at least one is not.
        assert!(!parts.is_empty() && parts.len() < shown);
    }
    assert!(masked_total > data.num_users());
}

#[test]
fn mlm_targets_reconstruct_the_masked_words() {
    let data = shop();
    let mut checked = 0;
    for (s, parts) in &masked_samples(Task::MaskedLanguageModeling) {
        assert_eq!(
            parts.last().map(String::as_str),
            Some(""),
            "closing sentinel: {}",
            s.target
        );
        unmask_history(data, s);
        assert!(
            !s.input.contains("ID: <extra_id"),
            "identifiers are never masked"
        );
        checked += 1;
    }
    assert!(checked > data.num_users() * 9 / 10);
}

#[test]
fn auxiliary_tasks_are_training_samples_only() {
    let data = shop();
    let mut config = SamplesConfig::default();
    for task in [
        Task::MaskedItemModeling,
        Task::MaskedLanguageModeling,
        Task::Bpr,
    ] {
        config.set_per_user(task, PerUser::Count(3.0));
    }
    let g = generator(config);
    assert_eq!(
        g.tasks(Split::Train)
            .filter(|t| !t.is_recommendation())
            .count(),
        3
    );
    for split in [Split::Valid, Split::Test] {
        assert!(g.tasks(split).all(Task::is_recommendation), "{split}");
        let (mut made, mut skipped) = (Vec::new(), Vec::new());
        for user in data.users() {
            for epoch in 0..2 {
                let emit = &mut |s: recalign_samples::Sample<'_>| made.push(s.task);
                g.for_each_sample(user, split, epoch, emit, &mut |t| skipped.push(t));
            }
        }
        assert!(made.contains(&Task::Retrieval));
        // Neither a sample nor a skipped one of an auxiliary task.
        assert!(made.iter().all(|t| t.is_recommendation()), "{split}");
        assert!(skipped.iter().all(|t| t.is_recommendation()), "{split}");
    }
}

#[test]
fn bpr_offers_the_next_item_and_a_never_bought_one() {
    let data = shop();
    let g = generator(SamplesConfig::default());
    for user in data.users() {
        let bought: Vec<String> = data
            .sequence(user)
            .iter()
            .map(|e| data.item(e.item).identifier.clone())
            .collect();
        for s in g
            .user_samples(user, Split::Train, 0)
            .iter()
            .filter(|s| s.task == Task::Bpr)
        {
            let options = &s.input[s.input.rfind("(A) ").unwrap()..];
            let ids = ids_in(options);
            assert_eq!(ids.len(), 2);
            let (choice, answer) = (&s.target[1..2], ids_in(&s.target)[0].clone());
            let (positive, negative) = if choice == "A" {
                (&ids[0], &ids[1])
            } else {
                (&ids[1], &ids[0])
            };
            assert_eq!(positive, &answer);
            assert!(bought.contains(positive));
            assert!(
                !bought.contains(negative),
                "negative {negative} was bought by the user"
            );
        }
    }
}

#[test]
fn inputs_respect_the_budget_and_untitled_items_show_their_id() {
    let config = SamplesConfig {
        max_input_chars: 400,
        history: 50,
        ..SamplesConfig::default()
    };
    let g = generator(config);
    for s in all_samples(&g, Split::Train) {
        // Only a single history item longer than the budget may exceed it.
        if s.input.len() > 400 {
            assert_eq!(
                ids_in(&s.input).len() - usize::from(s.task == Task::Bpr) * 2,
                1,
                "{}",
                s.input
            );
        }
    }
    let data = shop();
    let untitled = data.items().iter().filter(|i| i.title().is_none()).count();
    assert_eq!(g.untitled_items(), untitled);
    assert!(untitled > 0, "the shop plants untitled items");
}

#[test]
fn mixture_counts_follow_the_config() {
    let data = shop();
    let mut config = SamplesConfig::default();
    config.set_per_user(Task::Retrieval, PerUser::Count(2.0));
    config.set_per_user(Task::Bpr, PerUser::Count(0.5));
    config.set_per_user(Task::Rating, PerUser::Count(0.0));
    config.epochs = 2;
    let g = generator(config);
    let train = all_samples(&g, Split::Train);
    let count = |t| train.iter().filter(|s| s.task == t).count();
    let expected: usize = data
        .users()
        .map(|u| (data.train_sequence(u).len() - 1).min(2))
        .sum();
    assert_eq!(count(Task::Retrieval), expected);
    assert_eq!(count(Task::Rating), 0);
    let bpr = count(Task::Bpr) as f64 / data.num_users() as f64;
    assert!((0.4..0.6).contains(&bpr), "bpr per user {bpr}");
    // A second epoch draws afresh.
    let user = data.users().next().unwrap();
    let e0 = g.user_samples(user, Split::Train, 0);
    let e1 = g.user_samples(user, Split::Train, 1);
    assert_ne!(e0, e1);
    // "all" is for prefix tasks only.
    let mut bad = SamplesConfig::default();
    bad.set_per_user(Task::MaskedItemModeling, PerUser::ALL);
    let err = recalign_samples::Generator::new(data, bad).err().unwrap();
    assert!(err.to_string().contains("mim.per_user"), "{err}");
}

#[test]
fn every_sample_names_its_template_from_the_table() {
    let g = generator(SamplesConfig::default());
    let ids: Vec<&str> = recalign_samples::templates::TABLE
        .iter()
        .map(|t| t.id)
        .collect();
    let samples = all_samples(&g, Split::Train);
    for s in &samples {
        assert!(ids.contains(&s.template), "{}", s.template);
    }
    // Training draws among the paraphrases.
    let used: std::collections::BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.task == Task::Retrieval)
        .map(|s| s.template)
        .collect();
    assert_eq!(used.len(), 3);
}

#[test]
fn evaluation_prompts_read_exactly_as_held_out_samples() {
    use recalign_data::candidates::candidates_for;
    use recalign_samples::Query;
    for style in [Style::Informative, Style::P5] {
        let config = SamplesConfig {
            style,
            ..SamplesConfig::default()
        };
        let g = generator(config.clone());
        let data = shop();
        let mut checked = 0;
        for user in data.users().take(60) {
            for split in [Split::Valid, Split::Test] {
                let held = data.held_out(user, split).unwrap();
                for sample in g.user_samples(user, split, 0) {
                    let query_candidates;
                    let query = match sample.task {
                        Task::Retrieval => Query::Retrieval,
                        Task::Ranking => {
                            query_candidates = candidates_for(
                                data,
                                user,
                                split,
                                config.ranking.candidates,
                                config.seed,
                            )
                            .unwrap();
                            Query::Ranking {
                                candidates: &query_candidates,
                            }
                        }
                        Task::Rating => Query::Rating {
                            item: held.target.item,
                        },
                        other => panic!("{other} in a held-out split"),
                    };
                    assert_eq!(g.prompt(Some(user), held.history, query), sample.input);
                    let answer = match sample.task {
                        Task::Rating => g.rating_answer(held.target.rating().unwrap()),
                        _ => g.item_answer(held.target.item),
                    };
                    assert_eq!(answer, sample.target);
                    checked += 1;
                }
            }
        }
        assert!(checked >= 300, "{checked}");
        // A history typed by hand shows no user, even in the P5 style.
        let history = data.sequence(data.users().next().unwrap());
        let anonymous = g.prompt(None, history, Query::Retrieval);
        assert!(!anonymous.contains("user_"), "{anonymous}");
    }
}
