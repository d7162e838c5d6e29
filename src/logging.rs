//! Logs (`-v` info, `-vv` debug, `-vvv` trace) and panic messages go to stderr through the
//! redactor, like every other output, so that no verbosity and no crash can show a secret.

use std::io::{self, Write};

use crate::secret::Redactor;

/// Buffers one log event and writes it redacted when the event is complete.
struct RedactingWriter<W: Write> {
    redactor: Redactor,
    buf: Vec<u8>,
    sink: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = self.redactor.redact(&String::from_utf8_lossy(&self.buf));
        self.buf.clear();
        let sink = &mut self.sink;
        crate::ui::with_bar_suspended(|| {
            sink.write_all(text.as_bytes())?;
            sink.flush()
        })
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Starts logging at the given verbosity (0: warnings only) and redacts panic messages.
pub fn init(verbosity: u8, redactor: &Redactor) {
    let level = match verbosity {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let r = redactor.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(move || RedactingWriter {
            redactor: r.clone(),
            buf: Vec::new(),
            sink: io::stderr(),
        })
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);

    let r = redactor.clone();
    std::panic::set_hook(Box::new(move |info| {
        let message = r.redact(&info.to_string());
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "tokrot crashed: {message}");
        let _ = writeln!(
            err,
            "nothing after the last step shown was done; `tokrot history` and the journal say what was"
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn a_log_line_is_redacted_before_it_is_written() {
        let redactor = Redactor::default();
        redactor.register(&SecretString::from("glpat-LOG-CANARY"));
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter {
                redactor,
                buf: Vec::new(),
                sink: &mut out,
            };
            // An event may arrive in pieces; the secret may straddle them.
            w.write_all(b"DEBUG answer body glpat-LO").unwrap();
            w.write_all(b"G-CANARY end\n").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "DEBUG answer body [redacted] end\n"
        );
    }
}
