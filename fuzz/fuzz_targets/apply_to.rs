//! `--apply-to` specs: parsed, never a panic; an accepted spec reads back as itself and holds
//! no `.`/`..`/empty path segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokrot::engine::target::TargetSpec;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(spec) = text.parse::<TargetSpec>()
    {
        let again: TargetSpec = spec.to_string().parse().expect("a spec reads back");
        assert_eq!(again, spec);
        for (_, value) in spec.params() {
            assert!(value.split('/').all(|seg| !seg.is_empty() && seg.chars().any(|c| c != '.')));
        }
    }
});
