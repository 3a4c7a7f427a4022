//! Configuration from the environment, read and validated once per cold start. The names are
//! the same in template.yaml, the tests and the README.

use crate::plan::PlanSettings;
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
    /// `INPUT_BUCKET` (optional): the uploads bucket; records naming another are refused.
    pub input_bucket: Option<String>,
    /// `INPUT_PREFIX` (optional, default empty): only keys under it are processed.
    pub input_prefix: String,
    /// `MAX_INPUT_BYTES`, `MAX_PIXELS`, `MAX_SIDE` (optional) and the default renditions.
    pub renditions: RenditionOptions,
}

impl IngestConfig {
    /// Reads the configuration through `var` (`std::env::var` in production).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(var);
        Ok(IngestConfig {
            input_bucket: Some(env.optional("INPUT_BUCKET")).filter(|b| !b.trim().is_empty()),
            output_bucket: env.required("OUTPUT_BUCKET")?,
            events_topic_arn: env.required("EVENTS_TOPIC_ARN")?,
            failures_topic_arn: env.required("FAILURES_TOPIC_ARN")?,
            input_prefix: env.input_prefix()?,
            renditions: RenditionOptions {
                limits: env.limits()?,
                ..RenditionOptions::default()
            },
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Reads variables through a lookup function, with the typed errors above.
struct Env<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        (self.0)(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing(name))
    }

    fn optional(&self, name: &str) -> String {
        (self.0)(name).unwrap_or_default()
    }

    /// `INPUT_PREFIX`: empty, or a folder (ending in `/`): with `uploads` (no slash), the key
    /// `uploads/a.jpg` would leave `/a.jpg`, which no output key can be made of.
    fn input_prefix(&self) -> Result<String, ConfigError> {
        let prefix = self.optional("INPUT_PREFIX");
        if prefix.is_empty() || prefix.ends_with('/') {
            Ok(prefix)
        } else {
            Err(ConfigError::Invalid {
                name: "INPUT_PREFIX",
                reason: format!(
                    "a prefix is a folder and ends in '/' (\"{prefix}/\"), or is empty"
                ),
                value: prefix,
            })
        }
    }

    fn number<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match (self.0)(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                value: v.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// A whole number of at least 1: a limit of 0 would refuse every photo.
    fn positive<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + From<u8>,
        T::Err: std::fmt::Display,
    {
        let value = self.number(name, default)?;
        if value < T::from(1) {
            return Err(ConfigError::Invalid {
                name,
                value: (self.0)(name).unwrap_or_default(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(value)
    }

    fn limits(&self) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        Ok(Limits {
            max_input_bytes: self.positive("MAX_INPUT_BYTES", defaults.max_input_bytes)?,
            max_pixels: self.positive("MAX_PIXELS", defaults.max_pixels)?,
            max_side: self.positive("MAX_SIDE", defaults.max_side)?,
        })
    }
}

/// The `layout` function's settings.
#[derive(Debug, Clone)]
pub struct LayoutConfig {
    /// `OUTPUT_BUCKET`: where ingest wrote the analysis, and where layouts go.
    pub output_bucket: String,
    /// `EVENTS_TOPIC_ARN`: where `layout.ready` goes.
    pub events_topic_arn: String,
    /// `FAILURES_TOPIC_ARN`: where `layout.failed` goes.
    pub failures_topic_arn: String,
    /// `INPUT_PREFIX` (optional): the uploads' prefix, stripped from photo keys.
    pub input_prefix: String,
    /// `DPI_GOOD`, `DPI_FAIR` (optional): default print-quality thresholds.
    pub plan: PlanSettings,
}

impl LayoutConfig {
    /// Reads the configuration through `var`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(var);
        let defaults = PlanSettings::default();
        let plan = PlanSettings {
            dpi_good: env.number("DPI_GOOD", defaults.dpi_good)?,
            dpi_fair: env.number("DPI_FAIR", defaults.dpi_fair)?,
            ..defaults
        };
        plan.validate().map_err(|reason| {
            // The variable the reason is about: dpi_fair's own value, or its place above
            // dpi_good, or dpi_good's.
            let (name, value) = if reason.starts_with("dpi_fair") {
                (
                    "DPI_FAIR",
                    format!("{} (DPI_GOOD {})", plan.dpi_fair, plan.dpi_good),
                )
            } else {
                (
                    "DPI_GOOD",
                    format!("{} (DPI_FAIR {})", plan.dpi_good, plan.dpi_fair),
                )
            };
            ConfigError::Invalid {
                name,
                value,
                reason,
            }
        })?;
        Ok(LayoutConfig {
            output_bucket: env.required("OUTPUT_BUCKET")?,
            events_topic_arn: env.required("EVENTS_TOPIC_ARN")?,
            failures_topic_arn: env.required("FAILURES_TOPIC_ARN")?,
            input_prefix: env.input_prefix()?,
            plan,
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// The `render` function's settings.
#[derive(Debug, Clone)]
pub struct RenderConfig {
    /// `INPUT_BUCKET`: the uploads (originals are read from it).
    pub input_bucket: String,
    /// `OUTPUT_BUCKET`: where renders go.
    pub output_bucket: String,
    /// `EVENTS_TOPIC_ARN`: where `render.done` goes.
    pub events_topic_arn: String,
    /// `FAILURES_TOPIC_ARN`: where `render.failed` goes.
    pub failures_topic_arn: String,
    /// `INPUT_PREFIX` (optional): only photos under it are rendered.
    pub input_prefix: String,
    /// `MAX_INPUT_BYTES`, `MAX_PIXELS`, `MAX_SIDE` (optional): limits on originals and outputs.
    pub limits: Limits,
}

impl RenderConfig {
    /// Reads the configuration through `var`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(var);
        Ok(RenderConfig {
            input_bucket: env.required("INPUT_BUCKET")?,
            output_bucket: env.required("OUTPUT_BUCKET")?,
            events_topic_arn: env.required("EVENTS_TOPIC_ARN")?,
            failures_topic_arn: env.required("FAILURES_TOPIC_ARN")?,
            input_prefix: env.input_prefix()?,
            limits: env.limits()?,
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Share of the function's memory a warm instance may keep resident between photos; above it,
/// freed image buffers are given back to the system (see `imaging_core::trim_memory_above`).
const KEPT_MEMORY_PERCENT: u64 = 40;

/// How much resident memory a warm instance keeps between photos: 40% of
/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB, set by Lambda; 1024 when absent).
pub fn kept_memory_bytes(var: impl Fn(&str) -> Option<String>) -> u64 {
    let mb = var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&mb| mb > 0)
        .unwrap_or(1024);
    mb * 1024 * 1024 * KEPT_MEMORY_PERCENT / 100
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The variables every function requires (render also `INPUT_BUCKET`).
    const REQUIRED: [(&str, &str); 3] = [
        ("OUTPUT_BUCKET", "out"),
        ("EVENTS_TOPIC_ARN", "arn:e"),
        ("FAILURES_TOPIC_ARN", "arn:f"),
    ];

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
        let base = REQUIRED;
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

    #[test]
    fn a_prefix_is_a_folder_and_limits_are_at_least_one() {
        let base = [&REQUIRED[..], &[("INPUT_BUCKET", "up")]].concat();
        let with = |extra: (&'static str, &'static str)| {
            let mut vars = base.to_vec();
            vars.push(extra);
            lookup(&vars)
        };
        let folder = IngestConfig::from_lookup(with(("INPUT_PREFIX", "uploads/"))).expect("valid");
        assert_eq!(folder.input_prefix, "uploads/");
        let e = IngestConfig::from_lookup(with(("INPUT_PREFIX", "uploads"))).expect_err("no slash");
        assert_eq!(
            e.to_string(),
            "environment variable INPUT_PREFIX=\"uploads\" is invalid: a prefix is a folder and \
             ends in '/' (\"uploads/\"), or is empty"
        );
        for e in [
            LayoutConfig::from_lookup(with(("INPUT_PREFIX", "up"))).map(|_| ()),
            RenderConfig::from_lookup(with(("INPUT_PREFIX", "up"))).map(|_| ()),
        ] {
            assert!(
                matches!(
                    e,
                    Err(ConfigError::Invalid {
                        name: "INPUT_PREFIX",
                        ..
                    })
                ),
                "{e:?}"
            );
        }
        for name in ["MAX_INPUT_BYTES", "MAX_PIXELS", "MAX_SIDE"] {
            let mut vars = base.to_vec();
            vars.push((name, "0"));
            for e in [
                IngestConfig::from_lookup(lookup(&vars)).map(|_| ()),
                RenderConfig::from_lookup(lookup(&vars)).map(|_| ()),
            ] {
                assert!(
                    matches!(&e, Err(ConfigError::Invalid { name: n, reason, .. })
                        if *n == name && reason == "must be at least 1"),
                    "{name}: {e:?}"
                );
            }
        }
    }

    #[test]
    fn kept_memory_follows_the_function_memory() {
        assert_eq!(
            kept_memory_bytes(lookup(&[])),
            1024 * 1024 * 1024 * 40 / 100
        );
        let two_gb = lookup(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")]);
        assert_eq!(kept_memory_bytes(two_gb), 2048 * 1024 * 1024 * 40 / 100);
        let junk = lookup(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots")]);
        assert_eq!(kept_memory_bytes(junk), 1024 * 1024 * 1024 * 40 / 100);
    }

    #[test]
    fn layout_and_render_read_their_own_variables() {
        let base = REQUIRED;
        let layout = LayoutConfig::from_lookup(lookup(&base)).expect("valid");
        assert_eq!(layout.plan, PlanSettings::default());
        let mut dpi = base.to_vec();
        dpi.extend([("DPI_GOOD", "300"), ("DPI_FAIR", "200")]);
        let layout = LayoutConfig::from_lookup(lookup(&dpi)).expect("valid");
        assert_eq!((layout.plan.dpi_good, layout.plan.dpi_fair), (300.0, 200.0));
        let mut inverted = base.to_vec();
        inverted.extend([("DPI_GOOD", "100"), ("DPI_FAIR", "200")]);
        assert!(matches!(
            LayoutConfig::from_lookup(lookup(&inverted)),
            Err(ConfigError::Invalid {
                name: "DPI_FAIR",
                ..
            })
        ));
        let mut negative = base.to_vec();
        negative.push(("DPI_GOOD", "-1"));
        assert!(matches!(
            LayoutConfig::from_lookup(lookup(&negative)),
            Err(ConfigError::Invalid {
                name: "DPI_GOOD",
                ..
            })
        ));
        let e = RenderConfig::from_lookup(lookup(&base)).expect_err("no input bucket");
        assert_eq!(
            e.to_string(),
            "environment variable INPUT_BUCKET is required"
        );
        let mut render = base.to_vec();
        render.extend([("INPUT_BUCKET", "up"), ("MAX_SIDE", "9000")]);
        let config = RenderConfig::from_lookup(lookup(&render)).expect("valid");
        assert_eq!(
            (config.input_bucket.as_str(), config.limits.max_side),
            ("up", 9000)
        );
    }
}
