//! Configuration from the environment, read and validated once per cold start. The names are
//! the same in template.yaml, the tests and the README.

use imaging_core::{Limits, RenditionOptions};

/// A configuration problem: a clear message, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set (or empty).
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// A variable does not parse.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
}

/// The `ingest` function's settings.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// `OUTPUT_BUCKET`: where renditions and analysis go.
    pub output_bucket: String,
    /// `EVENTS_TOPIC_ARN`: where `photo.analyzed` goes.
    pub events_topic_arn: String,
    /// `FAILURES_TOPIC_ARN`: where `photo.failed` goes.
    pub failures_topic_arn: String,
    /// `INPUT_PREFIX` (optional, default empty): only keys under it are processed.
    pub input_prefix: String,
    /// `MAX_INPUT_BYTES`, `MAX_PIXELS`, `MAX_SIDE` (optional) and the default renditions.
    pub renditions: RenditionOptions,
}

impl IngestConfig {
    /// Reads the configuration through `var` (`std::env::var` in production).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let number =
            |name: &'static str, default: u64| -> Result<u64, ConfigError> {
                match var(name) {
                    None => Ok(default),
                    Some(v) => v.trim().parse().map_err(|e: std::num::ParseIntError| {
                        ConfigError::Invalid {
                            name,
                            value: v.clone(),
                            reason: e.to_string(),
                        }
                    }),
                }
            };
        let defaults = Limits::default();
        let max_side = number("MAX_SIDE", u64::from(defaults.max_side))?;
        let limits = Limits {
            max_input_bytes: number("MAX_INPUT_BYTES", defaults.max_input_bytes)?,
            max_pixels: number("MAX_PIXELS", defaults.max_pixels)?,
            max_side: u32::try_from(max_side).map_err(|e| ConfigError::Invalid {
                name: "MAX_SIDE",
                value: max_side.to_string(),
                reason: e.to_string(),
            })?,
        };
        Ok(IngestConfig {
            output_bucket: required("OUTPUT_BUCKET")?,
            events_topic_arn: required("EVENTS_TOPIC_ARN")?,
            failures_topic_arn: required("FAILURES_TOPIC_ARN")?,
            input_prefix: var("INPUT_PREFIX").unwrap_or_default(),
            renditions: RenditionOptions {
                limits,
                ..RenditionOptions::default()
            },
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let e =
            IngestConfig::from_lookup(lookup(&[("OUTPUT_BUCKET", "out")])).expect_err("missing");
        assert_eq!(
            e.to_string(),
            "environment variable EVENTS_TOPIC_ARN is required"
        );
    }

    #[test]
    fn optional_values_default_and_bad_numbers_are_refused() {
        let base = [
            ("OUTPUT_BUCKET", "out"),
            ("EVENTS_TOPIC_ARN", "arn:e"),
            ("FAILURES_TOPIC_ARN", "arn:f"),
        ];
        let config = IngestConfig::from_lookup(lookup(&base)).expect("valid");
        assert_eq!(config.input_prefix, "");
        assert_eq!(config.renditions.limits, Limits::default());
        let mut bad = base.to_vec();
        bad.push(("MAX_PIXELS", "lots"));
        assert!(matches!(
            IngestConfig::from_lookup(lookup(&bad)),
            Err(ConfigError::Invalid {
                name: "MAX_PIXELS",
                ..
            })
        ));
    }
}
