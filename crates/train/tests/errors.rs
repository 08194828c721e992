//! Bad input to training: clear errors naming the file, line and field.

mod common;

use burn::tensor::backend::AutodiffBackend;
use recalign_t5::Preset;
use recalign_train::data::read_pairs;
use recalign_train::{
    DeviceChoice, ModelSource, Quiet, RunOptions, TrainConfig, TrainingJob, train,
};

struct Job(RunOptions);

impl TrainingJob for Job {
    type Output = recalign_train::TrainSummary;
    type Error = recalign_train::Error;
    fn run<B: AutodiffBackend>(
        self,
        devices: Vec<B::Device>,
    ) -> recalign_train::Result<Self::Output> {
        train::<B>(&self.0, &devices, &mut Quiet)
    }
}

#[test]
fn bad_sample_lines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.jsonl");
    // (file contents, what the error must name)
    let cases = [
        (
            "{\"task\":\"retrieval\",\"input\":\"a\",\"target\":\"1\"}\n{\"task\":\"retrieval\",\"input\":\"a\"}\n",
            ["train.jsonl:2", "target"],
        ),
        (
            "{\"task\":\"mim\",\"input\":\"a\",\"target\":\"\"}\n",
            ["train.jsonl:1", "`target` is empty"],
        ),
    ];
    for (text, [place, field]) in cases {
        std::fs::write(&path, text).unwrap();
        let message = read_pairs(&path, None).unwrap_err().to_string();
        assert!(
            message.contains(place) && message.contains(field),
            "{message}"
        );
    }
}

#[test]
fn resuming_with_other_data_or_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    common::write_samples(dir.path(), "train.jsonl", 32, 0);
    let options = |config: TrainConfig| RunOptions {
        config,
        train_samples: dir.path().join("train.jsonl"),
        valid_samples: None,
        out: dir.path().join("out"),
        model: ModelSource::Preset(Preset::Tiny),
        resume: true,
    };
    let config = TrainConfig {
        max_steps: Some(2),
        ..common::tiny_settings()
    };
    DeviceChoice::Cpu
        .train(Job(options(config.clone())))
        .unwrap();

    let other = TrainConfig {
        learning_rate: 0.5,
        ..config.clone()
    };
    let message = DeviceChoice::Cpu
        .train(Job(options(other)))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("step-0000002") && message.contains("settings"),
        "{message}"
    );

    common::write_samples(dir.path(), "train.jsonl", 32, 1);
    let message = DeviceChoice::Cpu
        .train(Job(options(config)))
        .unwrap_err()
        .to_string();
    assert!(message.contains("samples differ"), "{message}");
}

#[test]
fn cuda_without_the_feature_is_a_clear_error() {
    if cfg!(feature = "cuda") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        config: common::tiny_settings(),
        train_samples: dir.path().join("missing.jsonl"),
        valid_samples: None,
        out: dir.path().join("out"),
        model: ModelSource::Preset(Preset::Tiny),
        resume: false,
    };
    let message = DeviceChoice::Cuda(0)
        .train(Job(options))
        .unwrap_err()
        .to_string();
    assert!(message.contains("--features cuda"), "{message}");
}
