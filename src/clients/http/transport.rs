//! Why there was no answer, in words an operator can act on: a refused or unresolvable host,
//! a timeout, or what failed in the TLS handshake.

/// What failed in a TLS handshake, when that is why there was no answer: the certificate (and
/// what is wrong with it) or the handshake itself. rustls's error sits somewhere down the chain,
/// sometimes inside an `io::Error` (whose `source` skips it).
pub(super) fn tls_failure(e: &reqwest::Error) -> Option<String> {
    find_tls(e).map(describe_tls)
}

/// Whether a connection failed in a way a second try a moment later does not mend: refused, or
/// a host name with no address. A connect timeout or an unreachable network may be a moment's
/// hiccup, and is retried like one.
pub(super) fn unreachable(e: &reqwest::Error) -> bool {
    e.is_connect() && {
        let cause = connect_cause(e);
        cause == "connection refused" || cause.contains("(DNS)")
    }
}

/// Why a connection could not be made, in words: the I/O error's kind, or the resolver's.
pub(super) fn connect_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return "connection refused".into(),
                K::TimedOut => return "no answer to the connection in 10 s".into(),
                K::HostUnreachable | K::NetworkUnreachable => {
                    return "host or network unreachable".into();
                }
                _ => {}
            }
        }
        let text = s.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return "the host name has no address (DNS)".into();
        }
        source = s.source();
    }
    "no connection".into()
}

/// rustls's error in a chain of errors, looking inside each `io::Error` too.
pub(super) fn find_tls<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let wrapped = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| find_tls(inner));
    wrapped.or_else(|| err.source().and_then(find_tls))
}

/// A rustls error in words an operator can act on.
pub(super) fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::Expired | C::ExpiredContext { .. } => {
                "TLS: the server's certificate has expired".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS: the server's certificate is not valid yet (or this machine's clock is wrong)"
                    .into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "TLS: the server's certificate is not valid for this host name".into()
            }
            C::UnknownIssuer => "TLS: the server's certificate is not signed by an authority this machine trusts (self-signed, or a private CA missing from the system's trust store)".into(),
            C::Revoked => "TLS: the server's certificate has been revoked".into(),
            other => format!("TLS: the server's certificate was refused ({other})"),
        },
        other => format!("TLS: the handshake failed ({other})"),
    }
}

pub(super) fn describe_transport(e: &reqwest::Error) -> String {
    if let Some(tls) = tls_failure(e) {
        tls
    } else if e.is_timeout() {
        "no answer in time (timeout)".into()
    } else if e.is_connect() {
        format!("cannot connect ({})", connect_cause(e))
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg = format!("{msg}: {s}");
            source = s.source();
        }
        msg
    }
}
