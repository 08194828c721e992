//! The closed sets of flag values, as clap `ValueEnum`s: `--help` lists
//! them with a line each, clap refuses anything else (exit 2), and each
//! converts into the library type it stands for, so that no command matches
//! on strings. Spellings are those the flags always took.

use recalign_baselines::SasRecLoss;
use recalign_data::{Amazon, IdScheme, Split, TieRule};
use recalign_samples::Style;
use recalign_t5::Preset;
use recalign_train::OptimizerConfig;

/// A `ValueEnum` whose variants convert one to one into a library value.
macro_rules! choice {
    (
        $(#[$doc:meta])*
        $name:ident => $target:ty {
            $($(#[$variant_doc:meta])* $variant:ident $(($alias:literal))? => $value:expr,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $($(#[$variant_doc])* $(#[value(alias = $alias)])? $variant,)+
        }

        impl From<$name> for $target {
            fn from(choice: $name) -> Self {
                match choice {
                    $($name::$variant => $value,)+
                }
            }
        }
    };
}

choice! {
    /// Order of same-timestamp interactions.
    Ties => TieRule {
        /// The source file's order (P5's)
        FileOrder => TieRule::FileOrder,
        /// Raw item id
        ItemId => TieRule::ItemId,
        /// A seeded shuffle
        Shuffle => TieRule::Shuffle,
    }
}

choice! {
    /// Item identifiers the model sees.
    Ids => IdScheme {
        /// Seeded random numbers
        Random => IdScheme::Random,
        /// Sequential over training data first
        SequentialTrain => IdScheme::SequentialTrain,
        /// P5's sequential numbering (leaks the test item)
        Sequential => IdScheme::Sequential,
        /// Seeded random numbers, each one dedicated token (`<i_704>`)
        Atomic => IdScheme::Atomic,
        /// Residual k-means codes of item features, one token per level
        /// (`<a_12><b_3><c_200><d_0>`; settings in `[prepare.semantic]`)
        Semantic => IdScheme::Semantic,
    }
}

choice! {
    /// Wording of the recommendation samples.
    SampleStyle => Style {
        /// The paper's: no user id, items with titles
        Informative => Style::Informative,
        /// P5's: a user id, items by identifier only
        P5 => Style::P5,
    }
}

choice! {
    /// A sample task.
    SampleTask => recalign_samples::Task {
        /// Next-item retrieval
        Retrieval => recalign_samples::Task::Retrieval,
        /// Candidate ranking
        Ranking => recalign_samples::Task::Ranking,
        /// Rating prediction
        Rating => recalign_samples::Task::Rating,
        /// Masked item modeling
        Mim => recalign_samples::Task::MaskedItemModeling,
        /// Masked language modeling over titles
        Mlm => recalign_samples::Task::MaskedLanguageModeling,
        /// Bayesian personalized ranking
        Bpr => recalign_samples::Task::Bpr,
    }
}

choice! {
    /// A part of the leave-one-out split.
    SplitName => Split {
        /// Everything before the last two interactions
        Train => Split::Train,
        /// The second-last interaction
        Valid("validation") => Split::Valid,
        /// The last interaction
        Test => Split::Test,
    }
}

choice! {
    /// A held-out part of the split, for evaluation.
    HeldOut => Split {
        /// The second-last interaction, for choosing among models
        Valid("validation") => Split::Valid,
        /// The last interaction, reported once
        Test => Split::Test,
    }
}

choice! {
    /// The size of a fresh model.
    ModelPreset => Preset {
        /// d_model 64, 2 + 2 blocks: tests, seconds to minutes
        Tiny => Preset::Tiny,
        /// d_model 256, 4 + 4 blocks: CPU experiments
        Small => Preset::Small,
    }
}

choice! {
    /// An optimizer with its default settings.
    OptimizerName => OptimizerConfig {
        /// AdamW
        Adamw => OptimizerConfig::adamw(),
        /// Adafactor (T5X's constant-rate settings)
        Adafactor => OptimizerConfig::adafactor(),
    }
}

choice! {
    /// SASRec's loss.
    Loss => SasRecLoss {
        /// Softmax cross-entropy over the catalogue
        Ce => SasRecLoss::Ce,
        /// Binary cross-entropy, one sampled negative (the original paper)
        Bce => SasRecLoss::Bce,
    }
}

choice! {
    /// An Amazon dataset of the paper.
    AmazonSet => Amazon {
        /// Beauty
        Beauty => Amazon::Beauty,
        /// Sports & Outdoors
        Sports => Amazon::Sports,
        /// Toys & Games
        Toys => Amazon::Toys,
    }
}

choice! {
    /// What a model is evaluated on.
    EvalTask => recalign_recommend::EvalTask {
        /// Full ranking of the catalogue
        Retrieval => recalign_recommend::EvalTask::Retrieval,
        /// 1 target + 99 seeded negatives (the ranking samples' lists)
        Ranking => recalign_recommend::EvalTask::Ranking,
        /// The held-out rating
        Rating => recalign_recommend::EvalTask::Rating,
    }
}

impl EvalTask {
    /// The library's task.
    pub fn task(self) -> recalign_recommend::EvalTask {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    fn names<T: ValueEnum>() -> Vec<String> {
        T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect()
    }

    #[test]
    fn spellings_are_those_the_flags_always_took() {
        assert_eq!(names::<Ties>(), ["file-order", "item-id", "shuffle"]);
        assert_eq!(
            names::<Ids>(),
            [
                "random",
                "sequential-train",
                "sequential",
                "atomic",
                "semantic"
            ]
        );
        assert_eq!(names::<SampleStyle>(), ["informative", "p5"]);
        assert_eq!(
            names::<SampleTask>(),
            ["retrieval", "ranking", "rating", "mim", "mlm", "bpr"]
        );
        assert_eq!(names::<HeldOut>(), ["valid", "test"]);
        assert_eq!(names::<ModelPreset>(), ["tiny", "small"]);
        assert_eq!(names::<OptimizerName>(), ["adamw", "adafactor"]);
        assert_eq!(names::<Loss>(), ["ce", "bce"]);
        assert_eq!(names::<AmazonSet>(), ["beauty", "sports", "toys"]);
        assert_eq!(names::<EvalTask>(), ["retrieval", "ranking", "rating"]);
    }

    /// Every variant of `T` converts into the library value of its name.
    fn agree<T: ValueEnum + Copy, U: From<T>>(name: fn(U) -> &'static str) {
        for choice in T::value_variants() {
            let possible = choice.to_possible_value().unwrap();
            assert_eq!(name(U::from(*choice)), possible.get_name());
        }
    }

    #[test]
    fn choices_name_the_library_values_of_the_same_name() {
        agree::<Ties, TieRule>(TieRule::name);
        agree::<Ids, IdScheme>(IdScheme::name);
        agree::<SampleStyle, Style>(Style::name);
        agree::<SampleTask, recalign_samples::Task>(recalign_samples::Task::name);
        agree::<AmazonSet, Amazon>(Amazon::name);
        agree::<EvalTask, recalign_recommend::EvalTask>(recalign_recommend::EvalTask::name);
        agree::<ModelPreset, Preset>(Preset::name);
        assert_eq!(Split::from(HeldOut::Valid), Split::Valid);
        assert_eq!(HeldOut::from_str("validation", false), Ok(HeldOut::Valid));
    }
}
