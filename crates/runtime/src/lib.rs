//! The bottom of recalign: what every other crate needs and no crate should
//! write twice.
//!
//! - [`fs`]: atomic file writes (temporary file, fsync, rename), with the
//!   permissions an ordinary new file gets under the user's umask;
//! - [`seed`]: seeds derived from seeds (SplitMix64's finaliser);
//! - [`settings`]: range checks that name the key at fault;
//! - [`error`]: the I/O, line and field errors that name the file, line and
//!   field at fault, embedded by each crate's own error type;
//! - `device` (feature `burn`): the compute device chosen at run time, and
//!   the job traits that run generic code on it, one for inference and one
//!   for training, so that inference code needs no training code;
//! - `dropout` (feature `burn`): dropout drawing from its own seeded stream.

pub mod error;
pub mod fs;
pub mod seed;
pub mod settings;

#[cfg(feature = "burn")]
pub mod device;
#[cfg(feature = "burn")]
pub mod dropout;

pub use error::{FieldError, FileErrors, IoError, LineError};
pub use fs::{AtomicFile, staging_dir, write_atomically};

#[cfg(feature = "burn")]
pub use device::{DeviceChoice, DeviceError, DeviceList, InferenceJob, TrainingJob};
