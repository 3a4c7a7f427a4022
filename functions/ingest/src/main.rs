//! The `ingest` Lambda: for every photo uploaded to the uploads bucket (S3 `ObjectCreated`
//! events, directly or through an SNS topic), stores renditions and analysis in the output bucket and announces them on SNS.
//! Permanent failures are published on the failures topic and the invocation succeeds, so
//! Lambda does not retry them; transient ones fail the invocation, so Lambda retries.

use lambda_runtime::{service_fn, tracing, Error, LambdaEvent};
use photo_suite_functions::aws::{clients_from_env, S3Client, S3Store, SnsTopics};
use photo_suite_functions::config::{kept_memory_bytes, IngestConfig};
use photo_suite_functions::events::uploads;
use photo_suite_functions::ingest::{
    ingest_upload, refuse_bad_record, IngestSettings, Outcome, TransientError,
};
use photo_suite_functions::logged;
use photo_suite_functions::metrics::IngestMetrics;
use serde_json::{json, Value};

/// Everything built once per cold start.
struct App {
    client: S3Client,
    output: S3Store,
    topics: SnsTopics,
    settings: IngestSettings,
    /// Resident memory kept between photos; above it, freed buffers go back to the system.
    kept_memory: u64,
}

impl App {
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let mut metrics = IngestMetrics::default();
        let mut skipped = 0u64;
        // A malformed event fails the invocation: after Lambda's retries it lands in the
        // dead-letter queue, where it can be looked at; nothing is silently dropped.
        let records = uploads(&event.payload).map_err(logged("malformed event"))?;
        for record in records {
            let upload = match record {
                Ok(upload) => upload,
                Err(bad) => {
                    let refused = refuse_bad_record(&bad, &self.topics, &self.settings).await;
                    match refused.map_err(|e| Error::from(e.to_string()))? {
                        Outcome::Skipped => skipped += 1,
                        _ => metrics.failed += 1,
                    }
                    continue;
                }
            };
            let input = S3Store::new(self.client.clone(), upload.bucket.clone());
            let outcome =
                ingest_upload(&upload, &input, &self.output, &self.topics, &self.settings).await;
            imaging_core::trim_memory_above(self.kept_memory);
            match outcome.map_err(|e: TransientError| Error::from(e.to_string()))? {
                Outcome::Analyzed {
                    bytes_in, timings, ..
                } => {
                    metrics.processed += 1;
                    metrics.bytes_in += bytes_in;
                    metrics.download_ms += timings.download.as_secs_f64() * 1e3;
                    metrics.process_ms += timings.process.as_secs_f64() * 1e3;
                    metrics.upload_ms += timings.upload.as_secs_f64() * 1e3;
                }
                Outcome::Failed { .. } => metrics.failed += 1,
                Outcome::Skipped => skipped += 1,
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        // EMF: a line on stdout that CloudWatch turns into metrics.
        println!("{}", metrics.to_emf("ingest", now));
        Ok(json!({
            "processed": metrics.processed,
            "failed": metrics.failed,
            "skipped": skipped,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    imaging_core::tune_allocator_for_images();
    let config = IngestConfig::from_env().map_err(logged("invalid configuration"))?;
    let (s3, sns) = clients_from_env().await;
    let app = App {
        kept_memory: kept_memory_bytes(|name| std::env::var(name).ok()),
        output: S3Store::new(s3.clone(), config.output_bucket.clone()),
        client: s3,
        topics: SnsTopics::new(sns, config.events_topic_arn, config.failures_topic_arn),
        settings: IngestSettings {
            input_bucket: config.input_bucket,
            input_prefix: config.input_prefix,
            renditions: config.renditions,
        },
    };
    let app = &app;
    lambda_runtime::run(service_fn(move |event| app.handle(event))).await
}
