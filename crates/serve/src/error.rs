//! Why the service could not start or stopped.

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting the service cannot run with.
    #[error("serve settings: {0}")]
    Config(String),
    /// The model could not be loaded or asked.
    #[error(transparent)]
    Recommend(#[from] recalign_recommend::Error),
    /// The samples configuration the model was trained with.
    #[error(transparent)]
    Samples(#[from] recalign_samples::Error),
    /// The listening socket.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The inference thread stopped unexpectedly.
    #[error("the inference thread stopped: {0}")]
    Worker(String),
    /// No device for the model.
    #[error(transparent)]
    Device(#[from] recalign_runtime::DeviceError),
}
