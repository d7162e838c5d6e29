//! `--token-stdin`: any bytes, never a panic; a token accepted is clean.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = tokrot::secret::read_token_line(data) {
        let t = token.expose_secret();
        assert!((8..=4096).contains(&t.chars().count()));
        assert!(
            !t.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}')
        );
    }
});
