//! Choosing the compute device at run time: `cpu` (burn's `Flex` backend)
//! or `cuda[:N]` (burn's CUDA backend, compiled in with the `cuda` cargo
//! feature). Code that is generic over the backend implements
//! [`BackendJob`] and is run on the chosen one.

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::AutodiffBackend;

use crate::error::{Error, Result};

/// A device named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU by index.
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    /// `cpu`, `cuda` or `cuda:N`.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
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

/// Work generic over the (autodiff) backend.
pub trait BackendJob {
    /// What the work returns.
    type Output;
    /// Runs on backend `B` and `device`.
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Self::Output>;
}

impl DeviceChoice {
    /// Runs `job` on this device's backend.
    pub fn run<J: BackendJob>(self, job: J) -> Result<J::Output> {
        match self {
            Self::Cpu => job.run::<Autodiff<Flex>>(Default::default()),
            #[cfg(feature = "cuda")]
            Self::Cuda(index) => job
                .run::<Autodiff<burn::backend::Cuda>>(burn::backend::cuda::CudaDevice::new(index)),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => Err(Error::Device(format!(
                "{self}: this build has no CUDA support; rebuild with `--features cuda`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("gpu".parse::<DeviceChoice>().is_err());
    }
}
