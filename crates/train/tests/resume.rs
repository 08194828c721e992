//! A run stopped after some steps and resumed ends with exactly the weights
//! of the run that was never interrupted. Alone in its test binary: burn's
//! CPU backend has one global dropout RNG.

mod common;

use burn::tensor::backend::AutodiffBackend;
use recalign_t5::Preset;
use recalign_train::{
    DeviceChoice, ModelSource, Observer, OptimizerConfig, RunOptions, TrainingJob, train,
};

struct StopAfter(u64, u64);

impl Observer for StopAfter {
    fn step(&mut self, report: &recalign_train::StepReport) {
        self.1 = report.step;
    }
    fn should_stop(&mut self) -> bool {
        self.1 >= self.0
    }
}

struct Job(RunOptions, u64);

impl TrainingJob for Job {
    type Output = recalign_train::TrainSummary;
    type Error = recalign_train::Error;
    fn run<B: AutodiffBackend>(
        self,
        devices: Vec<B::Device>,
    ) -> recalign_train::Result<Self::Output> {
        train::<B>(&self.0, &devices, &mut StopAfter(self.1, 0))
    }
}

fn options(dir: &std::path::Path, out: &str, optimizer: OptimizerConfig) -> RunOptions {
    RunOptions {
        config: recalign_train::TrainConfig {
            max_steps: Some(6),
            grad_accum: 2,
            optimizer,
            ..common::tiny_settings()
        },
        train_samples: dir.join("train.jsonl"),
        valid_samples: Some(dir.join("valid.jsonl")),
        out: dir.join(out),
        model: ModelSource::Preset(Preset::Tiny),
        resume: true,
    }
}

fn check(optimizer: OptimizerConfig) {
    let dir = tempfile::tempdir().unwrap();
    common::write_samples(dir.path(), "train.jsonl", 64, 0);
    common::write_samples(dir.path(), "valid.jsonl", 16, 3);

    let whole = DeviceChoice::Cpu
        .train(Job(options(dir.path(), "whole", optimizer), u64::MAX))
        .unwrap();
    assert_eq!(whole.steps, 6);

    let first = DeviceChoice::Cpu
        .train(Job(options(dir.path(), "parts", optimizer), 2))
        .unwrap();
    assert!(first.stopped_early);
    assert_eq!(first.steps, 2);
    assert!(!dir.path().join("parts/model.safetensors").exists());
    let second = DeviceChoice::Cpu
        .train(Job(options(dir.path(), "parts", optimizer), u64::MAX))
        .unwrap();
    assert_eq!(second.steps, 6);

    let read = |out: &str| std::fs::read(dir.path().join(out).join("model.safetensors")).unwrap();
    assert!(
        read("whole") == read("parts"),
        "{} weights differ after resume",
        optimizer.name()
    );
    assert_eq!(whole.valid_losses, second.valid_losses);
}

#[test]
fn resumed_runs_continue_identically() {
    check(OptimizerConfig::adamw());
    check(OptimizerConfig::adafactor());
}
