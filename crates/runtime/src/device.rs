//! Choosing the compute device at run time: `cpu` (burn's `Flex` backend)
//! or `cuda[:N]` (burn's CUDA backend, compiled in with the `cuda` cargo
//! feature).
//!
//! Code that is generic over the backend implements [`InferenceJob`]
//! (any backend: evaluation, recommendation, serving) or [`TrainingJob`]
//! (an autodiff backend) and is run on the chosen device. Each job keeps
//! its own error type, so a failure inside it is reported as itself, not as
//! a device error.

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::{AutodiffBackend, Backend};

/// A device named on the command line or in a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The CPU.
    #[default]
    Cpu,
    /// An NVIDIA GPU by index.
    Cuda(usize),
}

/// The chosen device is not available in this build or on this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device `{device}`: {reason}")]
pub struct DeviceError {
    /// The device asked for.
    pub device: DeviceChoice,
    /// Why it cannot be used.
    pub reason: String,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    /// `cpu`, `cuda` or `cuda:N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("`{other}` is not cpu, cuda or cuda:N")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Work generic over any backend: no gradients.
pub trait InferenceJob {
    /// What the work returns.
    type Output;
    /// How it fails; a missing device converts into it.
    type Error: From<DeviceError>;
    /// Runs on backend `B` and `device`.
    fn run<B: Backend>(self, device: B::Device) -> Result<Self::Output, Self::Error>;
}

/// Work generic over an autodiff backend: training.
pub trait TrainingJob {
    /// What the work returns.
    type Output;
    /// How it fails; a missing device converts into it.
    type Error: From<DeviceError>;
    /// Runs on backend `B` and `device`.
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Self::Output, Self::Error>;
}

impl DeviceChoice {
    /// Runs `job` on this device's plain backend.
    pub fn infer<J: InferenceJob>(self, job: J) -> Result<J::Output, J::Error> {
        match self {
            Self::Cpu => job.run::<Flex>(Default::default()),
            #[cfg(feature = "cuda")]
            Self::Cuda(index) => {
                job.run::<burn::backend::Cuda>(burn::backend::cuda::CudaDevice::new(index))
            }
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => Err(self.missing_cuda().into()),
        }
    }

    /// Runs `job` on this device's autodiff backend.
    pub fn train<J: TrainingJob>(self, job: J) -> Result<J::Output, J::Error> {
        match self {
            Self::Cpu => job.run::<Autodiff<Flex>>(Default::default()),
            #[cfg(feature = "cuda")]
            Self::Cuda(index) => job
                .run::<Autodiff<burn::backend::Cuda>>(burn::backend::cuda::CudaDevice::new(index)),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => Err(self.missing_cuda().into()),
        }
    }

    #[cfg(not(feature = "cuda"))]
    fn missing_cuda(self) -> DeviceError {
        DeviceError {
            device: self,
            reason: "this build has no CUDA support; rebuild with `--features cuda`".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{ElementConversion, Tensor};

    use super::*;

    #[test]
    fn devices_parse_and_print() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("gpu".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
    }

    struct Sum;

    impl InferenceJob for Sum {
        type Output = f32;
        type Error = DeviceError;
        fn run<B: Backend>(self, device: B::Device) -> Result<f32, DeviceError> {
            let x = Tensor::<B, 1>::from_floats([1.0, 2.0, 3.0], &device);
            Ok(x.sum().into_scalar().elem())
        }
    }

    #[test]
    fn jobs_run_on_the_cpu_and_a_missing_gpu_is_an_error() {
        assert_eq!(DeviceChoice::Cpu.infer(Sum).unwrap(), 6.0);
        #[cfg(not(feature = "cuda"))]
        {
            let error = DeviceChoice::Cuda(0).infer(Sum).unwrap_err();
            assert!(error.to_string().contains("--features cuda"), "{error}");
        }
    }
}
