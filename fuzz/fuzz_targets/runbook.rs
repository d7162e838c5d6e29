//! Runbook TOML: parsed and validated, never a panic; an error names the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Err(e) = tokrot::runbook::validate::parse_runbook(
            "fuzz.toml",
            text,
            tokrot::runbook::Origin::Embedded,
        )
    {
        assert!(e.to_string().starts_with("fuzz.toml:"));
    }
});
