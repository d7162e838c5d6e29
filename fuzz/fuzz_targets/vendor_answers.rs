//! The vendors' answers: every wire decoder of both clients, the error-message reader (which
//! must show no piece of a registered secret) and the `Link` header reader, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let _ = tokrot::clients::gitlab::decode_any(data);
    let _ = tokrot::clients::zendesk::decode_any(data);
    let redactor = tokrot::secret::Redactor::default();
    let secret = "glpat-FUZZ-secret-value";
    redactor.register(&SecretString::from(secret));
    let mut body = data.to_vec();
    body.extend_from_slice(secret.as_bytes());
    let message = tokrot::clients::http::vendor_message(&body, &redactor);
    let text = String::from_utf8_lossy(data);
    for piece in secret.as_bytes().windows(8) {
        let piece = std::str::from_utf8(piece).unwrap();
        assert!(!message.contains(piece) || text.contains(piece));
    }
    if let Ok(value) = reqwest::header::HeaderValue::from_bytes(data) {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::LINK, value);
        let _ = tokrot::clients::http::next_link(&headers);
    }
});
