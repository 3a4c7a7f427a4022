//! The `render` Lambda: for every `render.requested` message (SNS records, or a request given
//! directly), renders the placement from the original upload at print resolution, stores it
//! under `renders/` in the output bucket and announces `render.done`. Refused requests are
//! published on the failures topic (`render.failed`) and the invocation succeeds; transient
//! faults fail it, so Lambda retries.

use lambda_runtime::{service_fn, tracing, Error, LambdaEvent};
use photo_suite_functions::aws::{clients_from_env, S3Store, SnsTopics};
use photo_suite_functions::config::{kept_memory_bytes, RenderConfig};
use photo_suite_functions::logged;
use photo_suite_functions::render::{run_render, RenderOutcome, RenderSettings};
use photo_suite_functions::requests::request_messages;
use serde_json::{json, Value};

/// Everything built once per cold start.
struct App {
    input: S3Store,
    output: S3Store,
    topics: SnsTopics,
    settings: RenderSettings,
    /// Resident memory kept between renders; above it, freed buffers go back to the system.
    kept_memory: u64,
}

impl App {
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let messages = request_messages(&event.payload).map_err(logged("malformed event"))?;
        let (mut done, mut failed) = (Vec::new(), 0u32);
        for message in messages {
            let outcome = run_render(
                message,
                &self.input,
                &self.output,
                &self.topics,
                &self.settings,
            )
            .await
            .map_err(|e| Error::from(e.to_string()))?;
            imaging_core::trim_memory_above(self.kept_memory);
            match outcome {
                RenderOutcome::Done { key } => done.push(key),
                RenderOutcome::Failed(_) => failed += 1,
            }
        }
        Ok(json!({"done": done, "failed": failed}))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    imaging_core::tune_allocator_for_images();
    let config = RenderConfig::from_env().map_err(logged("invalid configuration"))?;
    let (s3, sns) = clients_from_env().await;
    let app = App {
        kept_memory: kept_memory_bytes(|name| std::env::var(name).ok()),
        input: S3Store::new(s3.clone(), config.input_bucket),
        output: S3Store::new(s3, config.output_bucket),
        topics: SnsTopics::new(sns, config.events_topic_arn, config.failures_topic_arn),
        settings: RenderSettings {
            input_prefix: config.input_prefix,
            limits: config.limits,
        },
    };
    let app = &app;
    lambda_runtime::run(service_fn(move |event| app.handle(event))).await
}
