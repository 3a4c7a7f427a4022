//! What the photo-suite Lambdas and the local CLI share: the ports (an object store, a message
//! publisher), their adapters (AWS S3/SNS, and a local folder and files), and the use-cases
//! that run on them (ingest, layout, render), so that the CLI and the Lambdas run the same code.
#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod events;
pub mod ingest;
pub mod keys;
pub mod layout;
pub mod local;
pub mod messages;
pub mod metrics;
pub mod plan;
pub mod ports;
pub mod render;
pub mod requests;

/// For a Lambda's `map_err`: logs the error at error level with `what` as the message (the
/// error in the `error` field) and turns it into its text, which the runtime reports as the
/// invocation's error.
pub fn logged<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| {
        tracing::error!(error = %e, "{what}");
        e.to_string()
    }
}
