//! Why cleanup could not take a message. Every variant means "try again
//! later" to the client (Postfix: `451 4.3.0 Error: queue file write
//! error`); nothing was acknowledged, so nothing is lost.

/// A cleanup failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The queue file could not be written, synced or renamed.
    #[error(transparent)]
    Queue(#[from] queue::Error),
    /// A parameter is invalid.
    #[error(transparent)]
    Config(#[from] conf::config::Error),
    /// A table named by a parameter cannot be used.
    #[error(transparent)]
    Address(#[from] address::ConfigError),
}
