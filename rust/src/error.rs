//! The failures a call can report, each mapped to one status code.

use crate::{BUFFER_TOO_SMALL, INVALID_ARGUMENT, KERNEL_ERROR};

/// Why a call failed; the message ends up in the caller's `err` buffer.
///
/// Panics are not represented here: they never become values inside the
/// kernels, only at the FFI boundary (see [`crate::ffi::call`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The caller broke the contract: a size, a null pointer, a parameter
    /// out of range, malformed text. Retrying the same call cannot succeed.
    InvalidArgument(String),
    /// The arguments were well-formed but the kernel could not process the
    /// data, e.g. corrupt compressed input.
    Kernel(String),
    /// The output buffer is too small; `needed` is a size that suffices,
    /// in the unit of the buffer's length parameter.
    BufferTooSmall { needed: usize, message: String },
}

impl Error {
    /// The status code the export returns for this error.
    pub fn status(&self) -> i32 {
        match self {
            Error::InvalidArgument(_) => INVALID_ARGUMENT,
            Error::Kernel(_) => KERNEL_ERROR,
            Error::BufferTooSmall { .. } => BUFFER_TOO_SMALL,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Error::InvalidArgument(message) | Error::Kernel(message) => message,
            Error::BufferTooSmall { message, .. } => message,
        }
    }
}
