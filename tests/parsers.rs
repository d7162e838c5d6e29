//! Properties of every parser that takes outside input: runbook TOML, the config file,
//! `--apply-to` specs, a token line, run ids, and the vendors' answers. Whatever the input, a
//! parser returns (never panics), an error is located inside the text, and what is accepted
//! keeps the promises the rest of the tool relies on. The same parsers have fuzz targets under
//! `fuzz/` for longer runs.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use tokrot::clients::http::vendor_message;
use tokrot::config::Config;
use tokrot::inventory::target::TargetSpec;
use tokrot::runbook::Origin;
use tokrot::runbook::validate::parse_runbook;
use tokrot::secret::{Redactor, read_token_line};
use tokrot::state::journal::check_run_id;

const RUNBOOKS: [&str; 4] = [
    include_str!("../runbooks/gitlab-pat.toml"),
    include_str!("../runbooks/gitlab-ci-var.toml"),
    include_str!("../runbooks/zendesk-webhook.toml"),
    include_str!("../runbooks/zendesk-oauth-integration.toml"),
];

const INVENTORY: &str = include_str!("fixtures/inventory/team.toml");

const CONFIG: &str = "[gitlab]\nurl = \"https://gitlab.example.com\"\n\n[zendesk.instances.staging]\nurl = \"https://example-staging.zendesk.com\"\nlabel = \"Zendesk Staging\"\n";

/// `text` with `bytes` put in at `at` (a fraction of its length), as a mutation would.
fn mutate(text: &str, at: f64, cut: usize, insert: &str) -> String {
    let mut i = ((text.len() as f64) * at) as usize;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    let mut j = (i + cut).min(text.len());
    while !text.is_char_boundary(j) {
        j += 1;
    }
    format!("{}{insert}{}", &text[..i], &text[j..])
}

/// Checks that a `file:line:col` error points inside the text.
fn located(message: &str, text: &str) {
    let lines = text.lines().count().max(1) + 1;
    if let Some(rest) = message.split(':').nth(1)
        && let Ok(line) = rest.parse::<usize>()
    {
        assert!(
            line >= 1 && line <= lines,
            "line {line} of {lines}: {message}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_runbook_parser_never_panics_and_locates_its_errors(
        which in 0..RUNBOOKS.len(),
        at in 0.0f64..1.0,
        cut in 0usize..40,
        insert in "[ -~\n\"=\\[\\]{}]{0,24}",
    ) {
        let text = mutate(RUNBOOKS[which], at, cut, &insert);
        if let Err(e) = parse_runbook("fuzz.toml", &text, Origin::Embedded) {
            let message = e.to_string();
            prop_assert!(message.starts_with("fuzz.toml:"), "{}", message);
            located(&message, &text);
        }
    }

    #[test]
    fn any_text_is_a_runbook_or_a_located_error(text in "\\PC{0,200}") {
        if let Err(e) = parse_runbook("any.toml", &text, Origin::Embedded) {
            located(&e.to_string(), &text);
        }
    }

    #[test]
    fn an_inventory_parser_never_panics_and_locates_its_errors(
        at in 0.0f64..1.0,
        cut in 0usize..40,
        insert in "[ -~\n\"=\\[\\]{}]{0,24}",
    ) {
        let catalogue = tokrot::runbook::Catalogue::embedded().unwrap();
        let text = mutate(INVENTORY, at, cut, &insert);
        match tokrot::inventory::parse(Path::new("i.toml"), &text, &catalogue) {
            Ok(inv) => prop_assert!(inv.credentials.len() <= 13),
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("i.toml:"), "{}", message);
                located(&message, &text);
            }
        }
    }

    #[test]
    fn a_config_parser_never_panics_and_accepts_only_safe_urls(
        at in 0.0f64..1.0,
        cut in 0usize..30,
        insert in "[ -~\n]{0,30}",
    ) {
        let text = mutate(CONFIG, at, cut, &insert);
        if let Ok(config) = Config::from_text(Path::new("c.toml"), &text) {
            for url in std::iter::once(&config.gitlab_url).chain(config.instances.values().map(|i| &i.url)) {
                prop_assert!(url.username().is_empty() && url.password().is_none());
                prop_assert!(url.scheme() == "https" || tokrot::config::is_loopback(url), "{}", url);
            }
        }
    }

    #[test]
    fn an_accepted_apply_to_spec_reads_back_as_itself(spec in "(gitlab-ci-var|gitlab-group-ci-var|gitlab-webhook|zendesk-app|zendesk-webhook|x)?:?[a-zA-Z0-9_./@*:-]{0,40}") {
        if let Ok(parsed) = spec.parse::<TargetSpec>() {
            let again: TargetSpec = parsed.to_string().parse().unwrap();
            prop_assert_eq!(&again, &parsed);
            for (name, value) in parsed.params() {
                if matches!(name, "project" | "group") {
                    prop_assert!(value.split('/').all(|seg| !seg.is_empty() && seg.chars().any(|c| c != '.')), "{}", value);
                }
            }
        }
    }

    #[test]
    fn a_token_line_is_accepted_only_as_a_clean_token(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(token) = read_token_line(&bytes[..]) {
            let t = token.expose_secret();
            prop_assert!((8..=4096).contains(&t.chars().count()));
            let invisible = |c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}';
            prop_assert!(!t.chars().any(invisible), "{:?}", t);
        }
    }

    #[test]
    fn a_run_id_names_a_file_in_the_state_dir_only(id in "[a-zA-Z0-9./\\\\-]{0,50}") {
        if check_run_id(&id).is_ok() {
            prop_assert!(!id.contains('/') && !id.contains('\\') && !id.starts_with('.'));
        }
    }

    #[test]
    fn vendor_answers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = tokrot::clients::gitlab::decode_any(&bytes);
        let _ = tokrot::clients::zendesk::decode_any(&bytes);
        let _ = vendor_message(&bytes, &Redactor::default());
    }

    #[test]
    fn shaped_vendor_answers_never_panic(
        id in any::<i64>(),
        name in "\\PC{0,20}",
        active in any::<bool>(),
        extra in "[ -~]{0,20}",
    ) {
        let bodies = [
            serde_json::json!({"id": id, "name": name, "active": active, "scopes": [extra], "expires_at": extra}),
            serde_json::json!([{"id": id, "key": name, "value": extra, "masked": active, "environment_scope": "*"}]),
            serde_json::json!({"webhook": {"id": name, "endpoint": format!("https://x/?token={extra}&a=b"),
                "authentication": {"type": extra, "data": {"username": name}}}}),
            serde_json::json!({"token": {"id": id, "token": extra, "scopes": [name]}}),
        ];
        for body in bodies {
            let bytes = serde_json::to_vec(&body).unwrap();
            let _ = tokrot::clients::gitlab::decode_any(&bytes);
            let _ = tokrot::clients::zendesk::decode_any(&bytes);
        }
    }

    #[test]
    fn a_vendor_message_shows_no_piece_of_a_secret(
        before in "[a-z ]{0,400}",
        after in "[a-z ]{0,50}",
        secret in "[A-Za-z0-9]{8,40}",
        json in any::<bool>(),
    ) {
        let r = Redactor::default();
        r.register(&SecretString::from(secret.clone()));
        let body = if json {
            serde_json::json!({"message": format!("{before}{secret}{after}")}).to_string()
        } else {
            format!("{before}{secret}{after}")
        };
        let message = vendor_message(body.as_bytes(), &r);
        for piece in secret.as_bytes().windows(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            // A piece that the surrounding text spells out by itself is not a leak.
            if !before.contains(piece) && !after.contains(piece) {
                prop_assert!(!message.contains(piece), "{} in {}", piece, message);
            }
        }
    }

    /// Fitting a page to a terminal never panics, never loses or splits a word, and keeps every
    /// line within the width (wide characters count two) unless it holds a single word longer
    /// than the width.
    #[test]
    fn a_page_fitted_to_any_width_keeps_every_word_whole(
        text in "([ a-z\u{4e00}-\u{4e10}\u{1f600}-\u{1f610}-]{0,30}\n?){0,6}",
        width in 0usize..120,
    ) {
        let fitted = tokrot::text::fit(&text, width);
        let words = |t: &str| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        prop_assert_eq!(words(&fitted), words(&text));
        for line in fitted.lines() {
            let alone = line.split_whitespace().count() <= 1;
            // Pages are fitted from 20 columns on; below that only the words are kept.
            prop_assert!(
                width < 20 || alone || console::measure_text_width(line) <= width,
                "{:?} wider than {}", line, width
            );
        }
    }
}
