//! Vendor clients: `http` holds the policy every call shares; `gitlab` and `zendesk` have one
//! function per endpoint tokrot uses.

pub mod budget;
pub mod gitlab;
pub mod http;
pub mod route;
pub mod zendesk;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment keeps as is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment: `grp/proj` → `grp%2Fproj`, as GitLab wants project paths.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::encode_segment;

    #[test]
    fn a_segment_keeps_unreserved_characters_and_encodes_the_rest() {
        assert_eq!(
            encode_segment("grp/sub/zd-sync_1.x~"),
            "grp%2Fsub%2Fzd-sync_1.x~"
        );
        assert_eq!(encode_segment("a b?c#d"), "a%20b%3Fc%23d");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }
}
