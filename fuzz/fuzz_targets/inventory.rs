//! The inventory: parsed and checked, never a panic; an error names the file; what is accepted
//! holds nothing that looks like a token.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The embedded runbooks, loaded once: the inventory is checked against them.
fn catalogue() -> &'static tokrot::runbook::Catalogue {
    static CATALOGUE: std::sync::OnceLock<tokrot::runbook::Catalogue> = std::sync::OnceLock::new();
    CATALOGUE
        .get_or_init(|| tokrot::runbook::Catalogue::embedded().expect("the embedded runbooks load"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match tokrot::inventory::parse(std::path::Path::new("i.toml"), text, catalogue()) {
            Ok(inv) => {
                for c in &inv.credentials {
                    assert!(c.params.iter().all(|(_, v)| !v.starts_with("glpat-")));
                }
            }
            Err(e) => assert!(e.to_string().starts_with("i.toml:")),
        }
    }
});
