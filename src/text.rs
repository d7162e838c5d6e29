//! Small text helpers: "did you mean" distances, vendor text on one line, tables.

/// Levenshtein distance between two strings, by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// The candidates within a small distance of `word`, closest first.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, c)| c).collect()
}

/// Text from a vendor (a token's name, a trigger's description) made safe to put on one line of
/// a table or a comment: control characters (a newline, an escape sequence) are written as
/// escapes, so the text cannot start a line of its own or move the cursor.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Text fitted to `width` columns: a longer line is broken between words (never inside one: a
/// long URL stays whole, and so does a command in backticks), the spacing inside it kept. A continuation starts under the last
/// column of a table row (two spaces or more mark a column), under the text of a numbered item,
/// two columns further in for another indented line, else at the line's own indent.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if columns(body) <= width {
            out.push_str(line);
            continue;
        }
        let hang = " ".repeat(hang_of(body, width));
        // (spaces before, word) pairs: the spacing is kept except where a line breaks.
        let mut pieces: Vec<(&str, &str)> = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let word_at = rest.find(|c| c != ' ').unwrap_or(rest.len());
            let (spaces, after) = rest.split_at(word_at);
            // A command in backticks is one word (punctuation before it included): one the
            // operator copies is never split, unless it alone is wider than the line.
            let plain_end = after.find(' ').unwrap_or(after.len());
            let quoted = after[..plain_end]
                .find('`')
                .and_then(|open| {
                    let close = after[open + 1..].find('`')?;
                    Some(open + 1 + close + 1)
                })
                .filter(|end| columns(&after[..*end]) <= width);
            let word_len = quoted.unwrap_or(plain_end);
            // Punctuation right after the closing backtick stays with it.
            let word_len = word_len
                + after[word_len..]
                    .find(' ')
                    .unwrap_or(after.len() - word_len);
            let (word, tail) = after.split_at(word_len);
            pieces.push((spaces, word));
            rest = tail;
        }
        let mut current = String::new();
        let mut len = 0;
        let mut fresh = true;
        for (spaces, word) in pieces {
            let (s, w) = (spaces.chars().count(), columns(word));
            if !fresh && len + s + w > width {
                out.push_str(current.trim_end());
                out.push('\n');
                current = hang.clone();
                len = hang.len();
                fresh = true;
                current.push_str(word);
                len += w;
                fresh &= word.is_empty();
                continue;
            }
            current.push_str(spaces);
            current.push_str(word);
            len += s + w;
            fresh &= word.is_empty();
        }
        out.push_str(current.trim_end());
        out.push_str(newline);
    }
    out
}

/// How many columns text takes on a terminal: colour codes take none.
fn columns(text: &str) -> usize {
    console::measure_text_width(text)
}

/// Where a broken line goes on: under its last column (after a gap of two spaces or more) when
/// that leaves room, else four columns past its indent.
fn hang_of(line: &str, width: usize) -> usize {
    let indent = line.chars().take_while(|c| *c == ' ').count();
    let trimmed = &line[indent..];
    // The last "  " ends right where the last column starts.
    let last_column = trimmed
        .rfind("  ")
        .map(|i| indent + columns(&trimmed[..i]) + 2);
    // A numbered item ("12. …") goes on under its text.
    let number = trimmed
        .split_once(". ")
        .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .map_or(0, |(n, _)| n.len() + 2);
    // An indented line goes on a little further in, so that it reads as one.
    let number = if number == 0 && indent > 0 { 2 } else { number };
    match last_column {
        Some(c) if c <= width * 2 / 3 => c,
        // A table row with no room under its last column still reads as one row.
        Some(_) => (indent + 4).min(width / 4),
        None => (indent + number).min(width / 2),
    }
}

/// Text without colour codes (`ESC [ digits and semicolons m`): what a stream that is not
/// coloured gets of tokrot's styling. Any other escape is left for `terminal_safe` to show.
pub fn without_colour(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let code = after.strip_prefix('[').and_then(|params| {
            let len = params
                .find(|p: char| !(p.is_ascii_digit() || p == ';'))
                .unwrap_or(params.len());
            params[len..].starts_with('m').then_some(1 + 1 + len + 1)
        });
        match code {
            Some(end) => rest = &rest[at + end..],
            None => {
                out.push('\u{1b}');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Text made safe for a terminal: a newline and a tab pass, and so do colour codes (`ESC [ … m`)
/// when `colour` is on (tokrot's own styling); any other control character (an escape sequence
/// that moves the cursor, clears the screen, sets the window title or the clipboard; a bell; a
/// carriage return) is written out as an escape, so that text from a vendor can only be read,
/// never act on the terminal.
pub fn terminal_safe(text: &str, colour: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' && colour {
            // A colour code: ESC [ digits and semicolons m.
            let body = &rest[1..];
            if let Some(params) = body.strip_prefix('[') {
                let len = params
                    .find(|p: char| !(p.is_ascii_digit() || p == ';'))
                    .unwrap_or(params.len());
                if params[len..].starts_with('m') {
                    let end = 1 + 1 + len + 1;
                    out.push_str(&rest[..end]);
                    rest = &rest[end..];
                    continue;
                }
            }
        }
        if unsafe_char(c) {
            out.push_str(&c.escape_default().to_string());
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// Vendor text on one line (`one_line`), at most `max` characters: a longer one is cut, and
/// says so with `…`.
pub fn short(text: &str, max: usize) -> String {
    let line = one_line(text);
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_text_stays_on_one_line() {
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
    }

    #[test]
    fn a_command_after_punctuation_stays_whole_and_a_lone_backtick_glues_nothing() {
        let fitted = fit(
            "the new token expires soon: it stops working unless it is rotated (`tokrot status` shows it)",
            40,
        );
        assert!(
            fitted.lines().any(|l| l.contains("(`tokrot status`")),
            "{fitted}"
        );
        // An unmatched backtick (vendor text) is an ordinary character.
        let lone = fit("a ` b c d e f g h i j k l m n o p q r s t u v w x y z", 10);
        assert!(lone.lines().all(|l| l.chars().count() <= 10), "{lone}");
    }

    proptest::proptest! {
        /// Whatever the text, fitting never panics, keeps every word, and no line is wider
        /// than the width unless it is one word alone. (Commands in backticks: the tests
        /// above.)
        #[test]
        fn fitted_lines_fit_or_are_one_word(
            words in proptest::collection::vec("[a-z().:é\u{1b}]{1,12}", 0..40),
            width in 20usize..100,
        ) {
            let text = words.join(" ");
            let fitted = fit(&text, width);
            let kept: Vec<&str> = fitted.split_whitespace().collect();
            let given: Vec<&str> = text.split_whitespace().collect();
            proptest::prop_assert_eq!(kept, given);
            for line in fitted.lines() {
                let alone = line.split_whitespace().count() == 1;
                proptest::prop_assert!(columns(line) <= width || alone, "{:?}", line);
            }
        }
    }

    #[test]
    fn a_command_in_backticks_is_never_split() {
        let text = "unfinished: run 20261205T081306Z-gitlab-pat-32e65f is incomplete; `tokrot resume 20261205T081306Z-gitlab-pat-32e65f` finishes it";
        let fitted = fit(text, 60);
        assert!(
            fitted
                .lines()
                .any(|l| l.contains("`tokrot resume 20261205T081306Z-gitlab-pat-32e65f`")),
            "{fitted}"
        );
        assert!(fitted.lines().count() >= 3, "{fitted}");
    }

    #[test]
    fn fit_breaks_between_words_and_keeps_long_words_whole() {
        let text = "  1. [action] Check that the token exists https://gitlab.example.com/a/very/long/url\nshort\n";
        let got = fit(text, 30);
        assert_eq!(
            got,
            "  1. [action] Check that the\n     token exists\n     https://gitlab.example.com/a/very/long/url\nshort\n"
        );
        for line in got.lines().filter(|l| !l.contains("https://")) {
            assert!(line.chars().count() <= 30, "{line:?}");
        }
        assert_eq!(fit("fits\n", 30), "fits\n");
        // Colour codes take no column.
        let bold = "\u{1b}[1mStep 1 of 8 [action] Check the token\u{1b}[0m\n";
        assert_eq!(fit(bold, 40), bold);
        // A table row goes on under its last column, its padding kept.
        assert_eq!(
            fit("id      rotate  A title that is too long\n", 30),
            "id      rotate  A title that\n                is too long\n"
        );
    }

    #[test]
    fn short_cuts_long_vendor_text_and_keeps_it_on_one_line() {
        assert_eq!(short("abc", 5), "abc");
        assert_eq!(short("abcdefgh", 5), "abcde…");
        assert_eq!(short("a\u{1b}]0;x\u{7}", 40), "a\\u{1b}]0;x\\u{7}");
    }

    #[test]
    fn only_colour_codes_reach_the_terminal() {
        let bold = "\u{1b}[1mStep\u{1b}[0m done\n";
        assert_eq!(terminal_safe(bold, true), bold);
        assert_eq!(
            terminal_safe(bold, false),
            "\\u{1b}[1mStep\\u{1b}[0m done\n"
        );
        let hostile = "x\u{1b}]0;title\u{7}\u{1b}[2J\r\u{1b}[31mred";
        assert_eq!(
            terminal_safe(hostile, true),
            "x\\u{1b}]0;title\\u{7}\\u{1b}[2J\\r\u{1b}[31mred"
        );
        assert_eq!(terminal_safe("a\tb\n", false), "a\tb\n");
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn closest_filters_and_orders() {
        assert_eq!(
            closest("globl", ["global", "us-gov", "glob"]),
            vec!["glob", "global"]
        );
        assert!(closest("zzzzzz", ["global"]).is_empty());
    }
}
