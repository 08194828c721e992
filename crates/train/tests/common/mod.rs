//! Tiny sample files for training tests: a shop where the next item is the
//! last one plus one, in the samples' JSON-lines format.

use std::path::{Path, PathBuf};

use recalign_train::{OptimizerConfig, TrainConfig};

const COLOURS: [&str; 5] = ["Red", "Blue", "Green", "Black", "White"];
const THINGS: [&str; 5] = [
    "Yoga Mat",
    "Water Bottle",
    "Hair Wig",
    "Face Cream",
    "Tennis Ball",
];

fn title(item: usize) -> String {
    format!("{} {}", COLOURS[item % 5], THINGS[item / 5 % 5])
}

/// Writes `count` samples to `dir/name`.
pub fn write_samples(dir: &Path, name: &str, count: usize, offset: usize) -> PathBuf {
    let mut text = String::new();
    for i in 0..count {
        let start = (i * 7 + offset) % 90;
        let history: Vec<String> = (start..start + 3)
            .map(|item| format!("ID: {item}, title: {}", title(item)))
            .collect();
        let (task, input, target) = if i % 3 == 2 {
            (
                "mim",
                format!(
                    "Fill in the masked item: {}; <extra_id_0>.",
                    history[..2].join("; ")
                ),
                format!("<extra_id_0> ID: {}", start + 2),
            )
        } else {
            (
                "retrieval",
                format!(
                    "Purchase history: {}. Predict the next item.",
                    history.join("; ")
                ),
                (start + 3).to_string(),
            )
        };
        let line =
            serde_json::json!({"task": task, "template": "t", "input": input, "target": target});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Settings small enough for a test.
pub fn tiny_settings() -> TrainConfig {
    TrainConfig {
        batch_size: 8,
        learning_rate: 3e-3,
        warmup_steps: 2,
        eval_every: 0,
        save_every: 0,
        valid_samples: 24,
        optimizer: OptimizerConfig::adamw(),
        ..TrainConfig::default()
    }
}
