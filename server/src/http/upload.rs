//! Uploads spooled to disk as they arrive (docs/IMPORT.md#the-route): each chunk is written to
//! an anonymous temporary file (deleted when closed) and the whole upload is refused as soon
//! as it passes its limit, so a 200 MB export never sits in the server's heap. The reader then
//! sees each file through a read-only memory map: pages the kernel loads from the file and may
//! drop again, not memory the server holds.

use super::error::ApiError;
use tokio::io::AsyncWriteExt;

/// One file of an upload, on disk.
pub struct Spooled {
    pub name: String,
    map: Option<memmap2::Mmap>,
}

impl Spooled {
    /// The file's bytes (mapped).
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// A file being spooled (its chunks counted against the whole upload's limit by [`Writer::write`]).
pub struct Writer {
    file: tokio::fs::File,
}

fn storage(e: std::io::Error) -> ApiError {
    ApiError::Internal(format!("spooling the upload: {e}"))
}

impl Writer {
    pub fn new() -> Result<Self, ApiError> {
        let file = tempfile::tempfile().map_err(storage)?;
        Ok(Writer {
            file: tokio::fs::File::from_std(file),
        })
    }

    /// Appends a chunk, or refuses the upload (413) once it passes `limit` bytes in all.
    pub async fn write(
        &mut self,
        chunk: &[u8],
        total: &mut usize,
        limit: usize,
    ) -> Result<(), ApiError> {
        *total += chunk.len();
        if *total > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        self.file.write_all(chunk).await.map_err(storage)
    }

    /// The file, mapped for reading.
    pub async fn finish(mut self, name: String) -> Result<Spooled, ApiError> {
        self.file.flush().await.map_err(storage)?;
        let file = self.file.into_std().await;
        let len = file.metadata().map_err(storage)?.len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the file is an anonymous temporary file only this upload holds: nothing
            // else can change or truncate it while it is mapped.
            Some(unsafe { memmap2::Mmap::map(&file) }.map_err(storage)?)
        };
        Ok(Spooled { name, map })
    }
}

/// The whole body of `request`, spooled to disk and refused (413) past `limit` bytes. The
/// body is read as a raw stream, so the router's default limit does not apply: `limit` does.
pub async fn spool_body(
    request: axum::extract::Request,
    limit: usize,
) -> Result<Spooled, ApiError> {
    use futures::StreamExt;
    let mut body = request.into_body().into_data_stream();
    let mut file = Writer::new()?;
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        // The client going away mid-upload.
        let chunk = chunk.map_err(|e| {
            ApiError::MalformedJson(format!("the request body could not be read: {e}"))
        })?;
        file.write(&chunk, &mut total, limit).await?;
    }
    file.finish("upload".into()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_land_on_disk_and_an_upload_past_its_limit_is_refused() {
        let mut total = 0;
        let mut w = Writer::new().unwrap();
        w.write(b"PK\x03\x04", &mut total, 10).await.unwrap();
        w.write(b"rest", &mut total, 10).await.unwrap();
        let file = w.finish("a.xlsx".into()).await.unwrap();
        assert_eq!(
            (file.name.as_str(), file.bytes()),
            ("a.xlsx", &b"PK\x03\x04rest"[..])
        );
        // The limit counts the whole upload, across its files.
        let mut second = Writer::new().unwrap();
        let refused = second.write(b"abc", &mut total, 10).await;
        assert!(matches!(refused, Err(ApiError::PayloadTooLarge(10))));
        let empty = Writer::new().unwrap().finish("e.csv".into()).await.unwrap();
        assert!(empty.bytes().is_empty());
    }
}
