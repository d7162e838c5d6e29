//! `--apply-to` specs: parsed, never a panic; an accepted spec reads back as itself and holds
//! no `.`/`..`/empty path segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokrot::inventory::target::TargetSpec;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(spec) = text.parse::<TargetSpec>()
    {
        let again: TargetSpec = spec.to_string().parse().expect("a spec reads back");
        assert_eq!(again, spec);
        // Projects and groups go into a URL path: no `.`, `..` or empty segment. (An
        // environment scope is a query value, `review/*` for one.)
        for (name, value) in spec.params() {
            if matches!(name, "project" | "group") {
                assert!(
                    value
                        .split('/')
                        .all(|seg| !seg.is_empty() && seg.chars().any(|c| c != '.'))
                );
            }
        }
    }
});
