//! The shared policy's unit tests: retries, waits, messages, pages.

use super::error::*;
use super::paging::*;
use super::retry::*;
use super::transport::*;
use super::*;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn at(secs: u64) -> SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn posts_are_never_retried() {
    let p = RetryPolicy::default();
    let h = headers(&[("retry-after", "1")]);
    for status in [429, 500, 502, 503] {
        let s = StatusCode::from_u16(status).unwrap();
        assert_eq!(
            p.delay(
                &Method::POST,
                1,
                Failure::Status(s, &h),
                Duration::ZERO,
                at(0)
            ),
            Err(GiveUp::Done)
        );
    }
    assert_eq!(
        p.delay(&Method::POST, 1, Failure::Transport, Duration::ZERO, at(0)),
        Err(GiveUp::Done)
    );
}

#[test]
fn idempotent_calls_retry_on_429_and_gateway_errors_only() {
    let p = RetryPolicy::default();
    let h = HeaderMap::new();
    for (status, retried) in [
        (429, true),
        (502, true),
        (503, true),
        (504, true),
        (500, false),
        (404, false),
        (401, false),
    ] {
        let s = StatusCode::from_u16(status).unwrap();
        assert_eq!(
            p.delay(
                &Method::PUT,
                1,
                Failure::Status(s, &h),
                Duration::ZERO,
                at(0)
            )
            .is_ok(),
            retried,
            "{status}"
        );
    }
    assert!(
        p.delay(&Method::GET, 1, Failure::Transport, Duration::ZERO, at(0))
            .is_ok()
    );
    // A host that cannot be reached is said at once, for every method.
    for m in [Method::GET, Method::PUT, Method::DELETE, Method::POST] {
        assert_eq!(
            p.delay(&m, 1, Failure::Unreachable, Duration::ZERO, at(0)),
            Err(GiveUp::Done)
        );
    }
}

#[test]
fn the_server_named_wait_is_honoured_up_to_max_wait() {
    let p = RetryPolicy::default();
    let s = StatusCode::TOO_MANY_REQUESTS;
    let get = |h: &HeaderMap, elapsed: u64, now: u64| {
        p.delay(
            &Method::GET,
            1,
            Failure::Status(s, h),
            Duration::from_secs(elapsed),
            at(now),
        )
    };
    let h = headers(&[("retry-after", "7")]);
    assert_eq!(get(&h, 0, 0), Ok(Duration::from_secs(7)));
    // GitLab's reset is a Unix time; Zendesk's, seconds.
    let h = headers(&[("ratelimit-reset", "1800000012")]);
    assert_eq!(get(&h, 0, 1_800_000_000), Ok(Duration::from_secs(12)));
    let h = headers(&[("ratelimit-reset", "41")]);
    assert_eq!(get(&h, 0, 1_800_000_000), Ok(Duration::from_secs(41)));
    // gitlab.com may ask for up to a day: honoured up to --max-wait (15 min), not cut.
    let h = headers(&[("retry-after", "600")]);
    assert_eq!(get(&h, 0, 0), Ok(Duration::from_secs(600)));
    let h = headers(&[("retry-after", "3600")]);
    assert_eq!(
        get(&h, 0, 0),
        Err(GiveUp::WaitTooLong(Duration::from_secs(3600)))
    );
    // --max-wait counts every wait of the call.
    let h = headers(&[("retry-after", "600")]);
    assert_eq!(
        get(&h, 400, 0),
        Err(GiveUp::WaitTooLong(Duration::from_secs(600)))
    );
}

#[test]
fn retries_are_bounded_in_count_and_time() {
    let p = RetryPolicy::default();
    let s = StatusCode::SERVICE_UNAVAILABLE;
    let h = HeaderMap::new();
    let get = |attempts, elapsed| {
        p.delay(
            &Method::GET,
            attempts,
            Failure::Status(s, &h),
            Duration::from_secs(elapsed),
            at(0),
        )
    };
    assert_eq!(get(1, 0), Ok(Duration::from_millis(500)));
    assert_eq!(get(3, 0), Ok(Duration::from_secs(2)));
    assert_eq!(get(p.max_attempts, 0), Err(GiveUp::Done));
    assert_eq!(get(5, 119), Err(GiveUp::Done), "past max_total");
}

#[test]
fn link_headers_give_the_next_page() {
    let h = headers(&[(
        "link",
        r#"<https://gitlab.example.com/api/v4/projects/1/triggers?page=2&per_page=100>; rel="next", <https://gitlab.example.com/api/v4/projects/1/triggers?page=1&per_page=100>; rel="first""#,
    )]);
    assert_eq!(
        next_link(&h).unwrap(),
        "https://gitlab.example.com/api/v4/projects/1/triggers?page=2&per_page=100"
    );
    let last = headers(&[(
        "link",
        r#"<https://x/a?page=1>; rel="first", <https://x/a?page=3>; rel="last""#,
    )]);
    assert_eq!(next_link(&last), None);
    assert_eq!(next_link(&HeaderMap::new()), None);
}

#[test]
fn a_message_is_redacted_before_it_is_cut() {
    let r = Redactor::default();
    let secret = "glpat-CUTCANARY-0123456789a";
    r.register(&SecretString::from(secret));
    for body in [
        format!("{}{secret}", "x".repeat(295)),
        format!(r#"{{"message":"{}{secret}"}}"#, "y".repeat(295)),
    ] {
        let message = vendor_message(body.as_bytes(), &r);
        for piece in secret.as_bytes().windows(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!message.contains(piece), "{message}");
        }
        assert!(message.ends_with("… (cut)"), "{message}");
    }
}

#[test]
fn tls_failures_say_what_failed() {
    use rustls::CertificateError as C;
    let said = |c: C| describe_tls(&rustls::Error::InvalidCertificate(c));
    assert!(said(C::Expired).contains("has expired"));
    assert!(said(C::NotValidForName).contains("not valid for this host name"));
    assert!(said(C::UnknownIssuer).contains("not signed by an authority"));
    assert!(said(C::NotValidYet).contains("not valid yet"));
}

#[test]
fn a_decode_error_shows_no_value() {
    let err = serde_json::from_str::<u64>(r#""glpat-VALUE-0123""#).unwrap_err();
    let shown = without_values(&err.to_string());
    assert!(!shown.contains("VALUE"), "{shown}");
    assert!(shown.starts_with("invalid type: string"), "{shown}");
    for message in [
        r#"invalid type: string "x\"glpat-LEAKED-0123", expected u64 at line 1 column 9"#,
        "unknown variant `glpat-LEAKED-0123`, expected `a` or `b` at line 1 column 4",
    ] {
        let shown = without_values(message);
        assert!(!shown.contains("LEAKED"), "{shown}");
        assert!(
            shown.ends_with(" at line 1 column 9") || shown.ends_with(" at line 1 column 4"),
            "{shown}"
        );
    }
    assert_eq!(
        without_values("missing field `token`"),
        "missing field `token`"
    );
}

#[test]
fn a_path_that_resolves_elsewhere_is_never_sent() {
    let base = Url::parse("https://gitlab.example.com/api/v4").unwrap();
    let http = Http::new(base, Redactor::default(), RetryPolicy::default()).unwrap();
    for bad in [
        "/projects/../hooks/9",
        "/projects/%2e%2e/hooks/9",
        "/projects/./x",
    ] {
        let call = Call::new(Method::GET, bad, None);
        assert!(matches!(http.url(&call), Err(ApiError::Client(_))), "{bad}");
    }
    let ok = Call::new(Method::GET, "/projects/grp%2Fproj/hooks/9", None);
    assert_eq!(
        http.url(&ok).unwrap().as_str(),
        "https://gitlab.example.com/api/v4/projects/grp%2Fproj/hooks/9"
    );
}

#[test]
fn a_status_is_said_once() {
    let said =
        |code: u16, message: &str| status_line(&StatusCode::from_u16(code).unwrap(), message);
    assert_eq!(said(404, "404 Project Not Found"), "404 Project Not Found");
    assert_eq!(said(401, "401 Unauthorized"), "401 Unauthorized");
    assert_eq!(said(404, "404 Not Found"), "404 Not Found");
    assert_eq!(
        said(404, "RecordNotFound: Not found"),
        "404 Not Found RecordNotFound"
    );
    assert_eq!(
        said(
            403,
            "insufficient_scope: The request requires higher privileges"
        ),
        "403 Forbidden insufficient_scope: The request requires higher privileges"
    );
    assert_eq!(said(502, "(empty body)"), "502 Bad Gateway (empty body)");
}

#[test]
fn vendor_messages_in_every_shape() {
    let r = Redactor::default();
    assert_eq!(
        vendor_message(br#"{"message":"401 Unauthorized"}"#, &r),
        "401 Unauthorized"
    );
    assert_eq!(
        vendor_message(
            br#"{"message":{"value":["is invalid"],"key":["is too long","has spaces"]}}"#,
            &r
        ),
        "key is too long, has spaces; value is invalid"
    );
    assert_eq!(
        vendor_message(br#"{"error":"insufficient_scope","error_description":"The request requires higher privileges"}"#, &r),
        "insufficient_scope: The request requires higher privileges"
    );
    assert_eq!(
        vendor_message(br#"{"error":"RecordInvalid","description":"Record validation errors","details":{"name":[{"description":"Name: cannot be blank","error":"BlankValue"}]}}"#, &r),
        "RecordInvalid: Record validation errors: name description: Name: cannot be blank; error: BlankValue"
    );
    assert_eq!(vendor_message(b"Retry later\n", &r), "Retry later");
    assert_eq!(vendor_message(b"", &r), "(empty body)");
    assert_eq!(
        vendor_message(b"<!DOCTYPE html><html>502</html>", &r),
        "(an HTML page instead of an API answer)"
    );
}
