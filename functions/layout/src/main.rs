//! The `layout` Lambda: for every `layout.requested` message from the book-layout service (SNS
//! records, or a request given directly), plans the book from the photos' analysis in the
//! output bucket, stores `layouts/<book_id>/<request_id>.json` and announces `layout.ready`.
//! Refused requests are published on the failures topic (`layout.failed`) and the invocation
//! succeeds; transient faults fail it, so Lambda retries.

use lambda_runtime::{service_fn, tracing, Error, LambdaEvent};
use photo_suite_functions::aws::{clients_from_env, S3Store, SnsTopics};
use photo_suite_functions::config::LayoutConfig;
use photo_suite_functions::layout::{run_layout, LayoutOutcome, LayoutSettings};
use photo_suite_functions::logged;
use photo_suite_functions::requests::request_messages;
use serde_json::{json, Value};

/// Everything built once per cold start.
struct App {
    store: S3Store,
    topics: SnsTopics,
    settings: LayoutSettings,
}

impl App {
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        // A malformed SNS envelope fails the invocation (it ends in the dead-letter queue).
        let messages = request_messages(&event.payload).map_err(logged("malformed event"))?;
        let (mut ready, mut failed) = (Vec::new(), 0u32);
        for message in messages {
            match run_layout(message, &self.store, &self.topics, &self.settings)
                .await
                .map_err(|e| Error::from(e.to_string()))?
            {
                LayoutOutcome::Ready { key } => ready.push(key),
                LayoutOutcome::Failed(_) => failed += 1,
            }
        }
        Ok(json!({"ready": ready, "failed": failed}))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = LayoutConfig::from_env().map_err(logged("invalid configuration"))?;
    let (s3, sns) = clients_from_env().await;
    let app = App {
        store: S3Store::new(s3, config.output_bucket),
        topics: SnsTopics::new(sns, config.events_topic_arn, config.failures_topic_arn),
        settings: LayoutSettings {
            input_prefix: config.input_prefix,
            plan: config.plan,
        },
    };
    let app = &app;
    lambda_runtime::run(service_fn(move |event| app.handle(event))).await
}
