//! AWS adapters: an S3 bucket as [`ObjectStore`], SNS topics as [`Publisher`]. Clients are
//! built once per cold start and shared by every invocation.

use crate::messages::Message;
use crate::ports::{Fetched, ObjectStore, PublishError, Publisher, StoreError, TooLarge, Topic};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

/// The S3 client, re-exported so the Lambdas need no SDK dependency of their own.
pub use aws_sdk_s3::Client as S3Client;

/// Builds the S3 and SNS clients from the standard AWS environment (`AWS_REGION`,
/// credentials, and `AWS_ENDPOINT_URL` for a local endpoint, in which case S3 is addressed
/// path-style, as local servers need).
pub async fn clients_from_env() -> (aws_sdk_s3::Client, aws_sdk_sns::Client) {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let local_endpoint = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    let s3_config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(local_endpoint)
        .build();
    (
        aws_sdk_s3::Client::from_conf(s3_config),
        aws_sdk_sns::Client::new(&shared),
    )
}

/// Maps an SDK error to a [`StoreError`], deciding whether a retry may help.
fn store_error<E>(operation: &'static str, key: &str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().unwrap_or_default().to_string();
    let message = DisplayErrorContext(&err).to_string();
    if status == Some(404) || matches!(code.as_str(), "NoSuchKey" | "NotFound") {
        return StoreError::not_found(operation, key);
    }
    let network = matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    );
    let throttled = matches!(
        code.as_str(),
        "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "RequestTimeout"
            | "InternalError"
            | "ServiceUnavailable"
            // 403s that pass: the clock, or credentials being refreshed.
            | "RequestTimeTooSkewed"
            | "RequestExpired"
            | "ExpiredToken"
            | "InvalidToken"
            | "TokenRefreshRequired"
    );
    if network || throttled || status.is_some_and(|s| s >= 500 || s == 429) {
        StoreError::transient(operation, key, message)
    } else {
        StoreError::permanent(operation, key, message)
    }
}

/// An object's version: its entity tag, unquoted (S3 always sends one; empty were it missing).
fn entity_tag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_string()
}

/// An S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    /// The bucket `bucket` through `client`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store {
            client,
            bucket: bucket.into(),
        }
    }
}

impl ObjectStore for S3Store {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
        let mut object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| store_error("get", key, e))?;
        let version = entity_tag(object.e_tag());
        // The size of the object this response carries: the upload may have been replaced
        // since its event was sent. Dropping the body closes the connection unread.
        let declared = object.content_length().unwrap_or_default().max(0) as u64;
        if declared > max_bytes {
            return Ok(Fetched {
                bytes: Err(TooLarge {
                    size: Some(declared),
                }),
                version,
            });
        }
        let mut bytes = Vec::with_capacity(declared as usize);
        while let Some(chunk) = object
            .body
            .try_next()
            .await
            .map_err(|e| StoreError::transient("get", key, DisplayErrorContext(&e)))?
        {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Ok(Fetched {
                    bytes: Err(TooLarge { size: None }),
                    version,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            bytes: Ok(bytes),
            version,
        })
    }

    async fn version(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(entity_tag(head.e_tag()))),
            Err(e) => match store_error("head", key, e) {
                e if e.not_found => Ok(None),
                e => Err(e),
            },
        }
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| store_error("put", key, e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| store_error("delete", key, e))?;
        Ok(())
    }
}

/// The events and failures SNS topics.
#[derive(Debug, Clone)]
pub struct SnsTopics {
    client: aws_sdk_sns::Client,
    events_arn: String,
    failures_arn: String,
}

impl SnsTopics {
    /// Topics by ARN.
    pub fn new(
        client: aws_sdk_sns::Client,
        events_arn: impl Into<String>,
        failures_arn: impl Into<String>,
    ) -> Self {
        SnsTopics {
            client,
            events_arn: events_arn.into(),
            failures_arn: failures_arn.into(),
        }
    }
}

impl Publisher for SnsTopics {
    async fn publish(&self, message: &Message) -> Result<(), PublishError> {
        let error = |e: String| PublishError {
            message_type: message.type_name(),
            message: e,
        };
        let body = serde_json::to_string(message).map_err(|e| error(e.to_string()))?;
        let arn = match message.topic() {
            Topic::Events => &self.events_arn,
            Topic::Failures => &self.failures_arn,
        };
        let type_attribute = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(message.type_name())
            .build()
            .map_err(|e| error(e.to_string()))?;
        self.client
            .publish()
            .topic_arn(arn)
            .message(body)
            .message_attributes("type", type_attribute)
            .send()
            .await
            .map_err(|e| error(aws_sdk_sns::error::DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Retry;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::primitives::SdkBody;

    /// What [`store_error`] makes of S3 answering `status` with the error `code`.
    fn answered(status: u16, code: &str) -> StoreError {
        let error = GetObjectError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("said by the test")
                .build(),
        );
        let response = HttpResponse::new(status.try_into().expect("a status"), SdkBody::empty());
        store_error("get", "a.jpg", SdkError::service_error(error, response))
    }

    #[test]
    fn refusals_that_pass_are_retried_and_lasting_ones_are_not() {
        // By the code, whatever the status (S3 can answer 200 with an error, e.g. InternalError
        // for CompleteMultipartUpload), and by the status, whatever the code.
        let passing = [
            (403, "RequestTimeTooSkewed"),
            (403, "RequestExpired"),
            (400, "ExpiredToken"),
            (403, "InvalidToken"),
            (400, "TokenRefreshRequired"),
            (400, "SlowDown"),
            (400, "Throttling"),
            (400, "ThrottlingException"),
            (400, "ServiceUnavailable"),
            (200, "InternalError"),
            (400, "RequestTimeout"),
            (429, "TooManyRequests"),
            (502, ""),
            (503, "SomethingNew"),
        ];
        for (status, code) in passing {
            let e = answered(status, code);
            assert_eq!(e.retry, Retry::Transient, "{status} {code}: {e}");
            assert!(!e.not_found, "{status} {code}");
        }
        let lasting = [
            (403, "AccessDenied"),
            (403, "SignatureDoesNotMatch"),
            (403, "InvalidObjectState"),
            (400, "InvalidRequest"),
            (301, "PermanentRedirect"),
        ];
        for (status, code) in lasting {
            let e = answered(status, code);
            assert_eq!(e.retry, Retry::Permanent, "{status} {code}: {e}");
            assert!(!e.not_found, "{status} {code}");
        }
        for (status, code) in [(400, "NoSuchKey"), (404, ""), (400, "NotFound")] {
            let e = answered(status, code);
            assert!(e.not_found, "{status} {code}: {e}");
            assert_eq!(e.retry, Retry::Permanent, "{status} {code}");
        }
        let timeout: SdkError<GetObjectError, HttpResponse> =
            SdkError::timeout_error("no answer in time");
        let e = store_error("get", "a.jpg", timeout);
        assert_eq!(e.retry, Retry::Transient, "{e}");
        let reset: SdkError<GetObjectError, HttpResponse> = SdkError::dispatch_failure(
            aws_sdk_s3::error::ConnectorError::io("connection reset".into()),
        );
        let e = store_error("get", "a.jpg", reset);
        assert_eq!(e.retry, Retry::Transient, "{e}");
    }
}
