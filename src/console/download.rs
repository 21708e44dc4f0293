//! The download of an archived original, streamed from the file: memory stays bounded
//! (one 64 KiB chunk in flight, one held back) whatever the file's size.
//!
//! The archived copy is content-addressed, and a swapped or damaged copy must not reach a
//! viewer as the agency's file. Its sha256 is computed as it streams, and the last chunk
//! is held back until the hash is known: a mismatch ends the response with an error before
//! it is complete (the client sees fewer bytes than `Content-Length`), and is logged.

use axum::body::{Body, Bytes};
use axum::http::HeaderValue;
use axum::http::header;
use axum::response::Response;
use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};

/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// The response body of `file` (of `len` bytes, whose sha256 must be `sha256`), streamed.
pub fn body(file: std::fs::File, len: u64, sha256: String, what: String) -> Body {
    struct State {
        inner: tokio_util::io::ReaderStream<tokio::fs::File>,
        hasher: Sha256,
        read: u64,
        held: Option<Bytes>,
        done: bool,
    }
    let state = State {
        inner: tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), CHUNK),
        hasher: Sha256::new(),
        read: 0,
        held: None,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, move |mut st| {
        let sha256 = sha256.clone();
        let what = what.clone();
        async move {
            while !st.done {
                match st.inner.next().await {
                    Some(Ok(chunk)) => {
                        st.hasher.update(&chunk);
                        st.read += chunk.len() as u64;
                        if let Some(previous) = st.held.replace(chunk) {
                            return Some((Ok(previous), st));
                        }
                    }
                    Some(Err(e)) => {
                        st.done = true;
                        tracing::error!(file = %what, error = %e, "download cut off: cannot read the archived copy");
                        return Some((Err(e), st));
                    }
                    None => {
                        st.done = true;
                        let found = hex::encode(std::mem::take(&mut st.hasher).finalize());
                        if found != sha256 || st.read != len {
                            tracing::error!(file = %what, found = %found, expected = %sha256, read = st.read, len, "download cut off: the archived copy is not the file received");
                            return Some((
                                Err(std::io::Error::other(
                                    "the archived copy is not the file received",
                                )),
                                st,
                            ));
                        }
                        if let Some(last) = st.held.take() {
                            return Some((Ok(last), st));
                        }
                    }
                }
            }
            None
        }
    });
    Body::from_stream(stream)
}

/// Sets the length of a streamed response (so that a cut-off download shows as one).
pub fn with_length(mut response: Response, len: u64) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}
