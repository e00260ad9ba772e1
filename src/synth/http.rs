//! HTTP/1.1 request builders, shaped like Android's `HttpURLConnection` (OkHttp inside):
//! request line, `User-Agent`, `Host`, `Connection: Keep-Alive`, `Accept-Encoding: gzip`.
//!
//! Invariant: CR and LF in any argument are replaced by spaces, so every request has exactly
//! the header lines written here and ends with one blank line.

/// `s` with CR/LF replaced by spaces (no header injection through arguments).
fn field(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// Request line and the common headers, without the terminating blank line.
fn head(method: &str, host: &str, uri: &str, ua: &str) -> String {
    format!(
        "{method} {} HTTP/1.1\r\nUser-Agent: {}\r\nHost: {}\r\nConnection: Keep-Alive\r\nAccept-Encoding: gzip\r\n",
        field(uri),
        field(ua),
        field(host)
    )
}

/// A GET request for `uri` on `host` sent with user agent `ua`.
pub fn http_get(host: &str, uri: &str, ua: &str) -> Vec<u8> {
    let mut h = head("GET", host, uri, ua);
    h.push_str("\r\n");
    h.into_bytes()
}

/// A POST request carrying `body` as `content_type`, with its Content-Length.
pub fn http_post(host: &str, uri: &str, ua: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut h = head("POST", host, uri, ua);
    h.push_str(&format!(
        "Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
        field(content_type),
        body.len()
    ));
    let mut out = h.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A minimal response with `status` (e.g. "204 No Content") and `body`.
pub fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        field(status),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_is_exact_and_parses() {
        let r = http_get(
            "connectivitycheck.gstatic.com",
            "/generate_204",
            "Dalvik/2.1.0",
        );
        assert_eq!(
            String::from_utf8(r.clone()).expect("ascii"),
            "GET /generate_204 HTTP/1.1\r\nUser-Agent: Dalvik/2.1.0\r\n\
             Host: connectivitycheck.gstatic.com\r\nConnection: Keep-Alive\r\n\
             Accept-Encoding: gzip\r\n\r\n"
        );
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut req = httparse::Request::new(&mut headers);
        assert_eq!(
            req.parse(&r).expect("valid"),
            httparse::Status::Complete(r.len())
        );
        assert_eq!(
            (req.method, req.path, req.version),
            (Some("GET"), Some("/generate_204"), Some(1))
        );
    }

    #[test]
    fn post_carries_body_and_length() {
        let r = http_post(
            "h.test",
            "/p",
            "ua",
            "application/x-www-form-urlencoded",
            b"a=1&b=2",
        );
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut req = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(n) = req.parse(&r).expect("valid") else {
            panic!("partial")
        };
        assert_eq!(&r[n..], b"a=1&b=2");
        let cl = req
            .headers
            .iter()
            .find(|h| h.name == "Content-Length")
            .expect("present");
        assert_eq!(cl.value, b"7");
    }

    #[test]
    fn crlf_in_arguments_cannot_add_headers() {
        let r = http_get("h\r\nX-Evil: 1", "/", "ua\n");
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut req = httparse::Request::new(&mut headers);
        assert!(matches!(req.parse(&r), Ok(httparse::Status::Complete(_))));
        assert_eq!(req.headers.len(), 4);
        assert!(req.headers.iter().all(|h| h.name != "X-Evil"));
    }
}
