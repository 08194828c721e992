//! Choosing the compute device at run time: `cpu` (burn's `Flex` backend)
//! or `cuda[:N]` (burn's CUDA backend, compiled in with the `cuda` cargo
//! feature); training also takes a list of GPUs, `cuda:0,1,2,3`
//! ([`DeviceList`]).
//!
//! Before any work reaches a GPU, the machine is checked for what burn's
//! CUDA backend loads at run time (the driver's libcuda, a device with that
//! index, NVRTC, and the toolkit's include directory, which cubecl compiles
//! its kernels against), so that a missing piece is an error naming it
//! rather than a panic from inside cubecl.
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
    /// Runs on backend `B` and `devices` (never empty; the first holds the
    /// model, and work may be split across all of them).
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>) -> Result<Self::Output, Self::Error>;
}

impl DeviceChoice {
    /// Runs `job` on this device's plain backend.
    pub fn infer<J: InferenceJob>(self, job: J) -> Result<J::Output, J::Error> {
        self.check()?;
        match self {
            Self::Cpu => job.run::<Flex>(Default::default()),
            #[cfg(feature = "cuda")]
            Self::Cuda(index) => {
                job.run::<burn::backend::Cuda>(burn::backend::cuda::CudaDevice::new(index))
            }
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => unreachable!("checked above"),
        }
    }

    /// Runs `job` on this device's autodiff backend.
    pub fn train<J: TrainingJob>(self, job: J) -> Result<J::Output, J::Error> {
        self.check()?;
        match self {
            Self::Cpu => job.run::<Autodiff<Flex>>(vec![Default::default()]),
            #[cfg(feature = "cuda")]
            Self::Cuda(index) => job.run::<Autodiff<burn::backend::Cuda>>(vec![
                burn::backend::cuda::CudaDevice::new(index),
            ]),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda(_) => unreachable!("checked above"),
        }
    }

    /// Whether this build and machine can run work on this device: for a
    /// GPU, that the build has CUDA and the machine has what it loads.
    pub fn check(self) -> Result<(), DeviceError> {
        match self {
            Self::Cpu => Ok(()),
            Self::Cuda(index) => cuda::check(index).map_err(|reason| DeviceError {
                device: self,
                reason,
            }),
        }
    }
}

/// The devices training runs on: one device, or several GPUs that split
/// each global batch (`cuda:0,1,2,3`). Never empty, never the CPU beside a
/// GPU, and never a GPU twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceList(Vec<DeviceChoice>);

impl DeviceList {
    /// The one device, when there is only one.
    pub fn single(&self) -> Option<DeviceChoice> {
        match self.0.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The devices, in the order given.
    pub fn devices(&self) -> &[DeviceChoice] {
        &self.0
    }

    /// Checks every device, as [`DeviceChoice::check`] does.
    pub fn check(&self) -> Result<(), DeviceError> {
        self.0.iter().try_for_each(|device| device.check())
    }

    /// Runs `job` on these devices' autodiff backend: one device as
    /// [`DeviceChoice::train`], several GPUs together.
    pub fn train<J: TrainingJob>(&self, job: J) -> Result<J::Output, J::Error> {
        if let Some(one) = self.single() {
            return one.train(job);
        }
        self.check()?;
        #[cfg(feature = "cuda")]
        {
            let devices = self
                .0
                .iter()
                .map(|device| match device {
                    DeviceChoice::Cuda(index) => burn::backend::cuda::CudaDevice::new(*index),
                    DeviceChoice::Cpu => unreachable!("lists of several devices are GPUs"),
                })
                .collect();
            job.run::<Autodiff<burn::backend::Cuda>>(devices)
        }
        #[cfg(not(feature = "cuda"))]
        unreachable!("checked above: GPUs need the cuda feature")
    }
}

impl From<DeviceChoice> for DeviceList {
    fn from(device: DeviceChoice) -> Self {
        Self(vec![device])
    }
}

impl std::str::FromStr for DeviceList {
    type Err = String;

    /// `cpu`, `cuda`, `cuda:N` or `cuda:N,M,...`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(indices) = s.strip_prefix("cuda:").filter(|rest| rest.contains(',')) else {
            return s.parse::<DeviceChoice>().map(Self::from);
        };
        let mut devices = Vec::new();
        for part in indices.split(',') {
            let index: usize = part.trim().parse().map_err(|_| {
                format!("`{s}`: `{part}` is not a GPU index (cuda:0,1,... lists indices)")
            })?;
            if devices.contains(&DeviceChoice::Cuda(index)) {
                return Err(format!("`{s}`: GPU {index} is listed twice"));
            }
            devices.push(DeviceChoice::Cuda(index));
        }
        Ok(Self(devices))
    }
}

impl std::fmt::Display for DeviceList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                let indices: Vec<String> = many
                    .iter()
                    .map(|device| match device {
                        DeviceChoice::Cuda(index) => index.to_string(),
                        DeviceChoice::Cpu => "cpu".to_owned(),
                    })
                    .collect();
                write!(f, "cuda:{}", indices.join(","))
            }
        }
    }
}

/// What burn's CUDA backend needs from the machine, checked in the order
/// it would fail.
#[cfg(feature = "cuda")]
mod cuda {
    /// `Err(what is missing and how to supply it)`.
    // cudarc's only probe that does not panic on a missing library is
    // `unsafe`, because opening a shared library runs its initialisers.
    #[allow(unsafe_code)]
    pub(super) fn check(index: usize) -> Result<(), String> {
        // SAFETY: opens the NVIDIA driver library by its usual names, as
        // burn's CUDA backend would a moment later, and loads no symbol.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(
                "the NVIDIA driver's library libcuda.so was not found: install the \
                 NVIDIA driver, or add the directory holding libcuda.so to LD_LIBRARY_PATH"
                    .to_owned(),
            );
        }
        cudarc::driver::result::init()
            .map_err(|e| format!("the CUDA driver did not start ({e}): is a GPU visible here?"))?;
        let count = cudarc::driver::result::device::get_count()
            .map_err(|e| format!("the CUDA driver could not count the GPUs ({e})"))?;
        let count = usize::try_from(count).unwrap_or(0);
        if index >= count {
            return Err(match count {
                0 => "the CUDA driver sees no GPU".to_owned(),
                n => format!(
                    "there is no GPU {index}: this machine has {n} (0 to {})",
                    n - 1
                ),
            });
        }
        // SAFETY: as above, for the CUDA toolkit's runtime compiler.
        if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
            return Err(
                "NVRTC (libnvrtc.so, the CUDA toolkit's runtime compiler, which \
                 compiles burn's kernels) was not found: install the CUDA toolkit and add \
                 its lib64 directory to LD_LIBRARY_PATH"
                    .to_owned(),
            );
        }
        match cubecl_cuda::install::cuda_path() {
            None => Err(
                "the CUDA toolkit's include directory was not found (kernels are \
                 compiled against it): set CUDA_PATH to the toolkit, e.g. /usr/local/cuda"
                    .to_owned(),
            ),
            Some(path) if !path.join("include").join("cuda.h").is_file() => Err(format!(
                "the CUDA toolkit at {} has no include/cuda.h (kernels are compiled against \
                 it): set CUDA_PATH to the toolkit's root",
                path.display()
            )),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(not(feature = "cuda"))]
mod cuda {
    pub(super) fn check(_index: usize) -> Result<(), String> {
        Err("this build has no CUDA support; rebuild with `--features cuda`".to_owned())
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
    fn device_lists_parse_and_refuse_duplicates() {
        let list: DeviceList = "cuda:0,1,3".parse().unwrap();
        assert_eq!(
            list.devices(),
            [
                DeviceChoice::Cuda(0),
                DeviceChoice::Cuda(1),
                DeviceChoice::Cuda(3)
            ]
        );
        assert_eq!(list.single(), None);
        assert_eq!(list.to_string(), "cuda:0,1,3");
        let one: DeviceList = "cuda:2".parse().unwrap();
        assert_eq!(one.single(), Some(DeviceChoice::Cuda(2)));
        assert_eq!(one.to_string(), "cuda:2");
        assert_eq!(
            "cpu".parse::<DeviceList>().unwrap().single(),
            Some(DeviceChoice::Cpu)
        );
        let twice = "cuda:0,1,0".parse::<DeviceList>().unwrap_err();
        assert!(twice.contains("GPU 0 is listed twice"), "{twice}");
        let bad = "cuda:0,x".parse::<DeviceList>().unwrap_err();
        assert!(bad.contains("`x` is not a GPU index"), "{bad}");
        assert!("cuda:0,".parse::<DeviceList>().is_err());
        assert!("cpu,cuda:0".parse::<DeviceList>().is_err());
    }

    #[test]
    fn jobs_run_on_the_cpu_and_a_missing_gpu_is_an_error() {
        assert_eq!(DeviceChoice::Cpu.infer(Sum).unwrap(), 6.0);
        let error = DeviceChoice::Cuda(0).infer(Sum).unwrap_err();
        #[cfg(not(feature = "cuda"))]
        assert!(error.to_string().contains("--features cuda"), "{error}");
        // A CUDA build on a machine without a GPU (CI's) names the missing
        // piece instead of panicking inside cubecl.
        #[cfg(feature = "cuda")]
        if std::env::var_os("RECALIGN_EXPECT_GPU").is_none() {
            let message = error.to_string();
            assert!(
                ["libcuda", "no GPU", "did not start", "NVRTC", "CUDA_PATH"]
                    .iter()
                    .any(|piece| message.contains(piece)),
                "{message}"
            );
        }
        let list: DeviceList = "cuda:0,7".parse().unwrap();
        assert!(list.check().is_err());
    }
}
