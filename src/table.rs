//! One writer for every table tokrot prints (`status`, `history`, `list`, `instances`), in the
//! manner of gh: on a terminal, rows fit its width, one line each, the widest free-text cells
//! cut with `…` and never wrapped, while ids, dates, kinds and states are never cut; piped,
//! every row is its full values separated by tabs, without a header, for `cut` and `awk`.
//! Colour codes in a cell take no column (and a stream without colour drops them).

/// The fewest columns a free-text column is cut to (its header's, when longer).
const FREE_LEAST: usize = 8;

/// What a column holds, and so whether it may be cut to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ids, dates, numbers, kinds, states: what the operator copies or compares, never cut.
    Key,
    /// Names, descriptions, sources, consumers: cut with `…` when the row is too wide.
    Free,
    /// Never cut, but left out on a terminal too narrow for the rest (last use, a yes/no):
    /// the rightmost such column first. Piped, always there.
    Extra,
}

/// Where the table goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A terminal this many columns wide.
    Terminal(usize),
    /// A pipe or a file: tab-separated full values, no header.
    Piped,
}

/// A table: its columns, then its rows.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<(&'static str, Kind)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns (header and kind).
    pub fn new(columns: &[(&'static str, Kind)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row. A tab or a line break in a cell (vendor text) is shown escaped, so that it
    /// can neither break a row on a terminal nor shift the columns of a piped one; any other
    /// control character is left to the stream's own guard (colour codes pass where colour is
    /// on).
    pub fn row(&mut self, cells: Vec<String>) {
        let one_line = |cell: String| match cell.contains(['\t', '\n', '\r']) {
            true => cell
                .replace('\t', "\\t")
                .replace('\n', "\\n")
                .replace('\r', "\\r"),
            false => cell,
        };
        self.rows.push(cells.into_iter().map(one_line).collect());
    }

    /// Whether it has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, a line a row.
    pub fn render(&self, layout: Layout) -> String {
        match layout {
            Layout::Piped => self
                .rows
                .iter()
                .map(|r| format!("{}\n", r.join("\t")))
                .collect(),
            Layout::Terminal(width) => self.fitted(width),
        }
    }

    fn fitted(&self, width: usize) -> String {
        // Columns that may be left out go, rightmost first, while even the narrowest free
        // columns cannot fit.
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        while self.narrowest(&shown) > width {
            match shown
                .iter()
                .rposition(|&i| self.columns[i].1 == Kind::Extra)
            {
                Some(at) => {
                    shown.remove(at);
                }
                None => break,
            }
        }
        let table = Table {
            columns: shown.iter().map(|&i| self.columns[i]).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| shown.iter().filter_map(|&i| r.get(i).cloned()).collect())
                .collect(),
        };
        // A terminal narrower than the keys of a row (a long URL): a record a row instead, its
        // first value, then each other under its header, nothing cut.
        if self.narrowest(&shown) > width {
            return self.stacked();
        }
        table.laid_out(width)
    }

    /// Each row as a record: its first value, then `HEADER  value` lines, a blank line between.
    fn stacked(&self) -> String {
        let label = self
            .columns
            .iter()
            .skip(1)
            .map(|(h, _)| h.len())
            .max()
            .unwrap_or(0);
        let records: Vec<String> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = row.iter();
                let mut out = format!("{}\n", cells.next().map_or("", String::as_str));
                for ((header, _), cell) in self.columns.iter().skip(1).zip(cells) {
                    out.push_str(&format!("  {header:<label$}  {cell}\n"));
                }
                out
            })
            .collect();
        records.join("\n")
    }

    /// The width of a row of `columns` with every free column at its narrowest.
    fn narrowest(&self, columns: &[usize]) -> usize {
        let least = columns.iter().map(|&i| {
            let natural = self.natural(i);
            match self.columns[i].1 {
                Kind::Free => natural.min(self.columns[i].0.len().max(FREE_LEAST)),
                Kind::Key | Kind::Extra => natural,
            }
        });
        least.sum::<usize>() + GAP * columns.len().saturating_sub(1)
    }

    /// The width of column `i`'s widest cell, its header included.
    fn natural(&self, i: usize) -> usize {
        std::iter::once(console::measure_text_width(self.columns[i].0))
            .chain(
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| console::measure_text_width(c)),
            )
            .max()
            .unwrap_or(0)
    }

    fn laid_out(&self, width: usize) -> String {
        let n = self.columns.len();
        let mut widths: Vec<usize> = (0..n).map(|i| self.natural(i)).collect();
        // A free column is cut no narrower than its header, or FREE_LEAST, or its content.
        let least: Vec<usize> = (0..n)
            .map(|i| match self.columns[i].1 {
                Kind::Key | Kind::Extra => widths[i],
                Kind::Free => widths[i].min(self.columns[i].0.len().max(FREE_LEAST)),
            })
            .collect();
        let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * n.saturating_sub(1);
        // The widest free column gives a column at a time until the row fits.
        while total(&widths) > width {
            let widest = (0..n)
                .filter(|&i| widths[i] > least[i])
                .max_by_key(|&i| (widths[i], i));
            match widest {
                Some(i) => widths[i] -= 1,
                // Ids and dates are never cut: a row that cannot fit overflows.
                None => break,
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                let shown = match console::measure_text_width(cell) > w {
                    true => console::truncate_str(cell, w, "…"),
                    false => std::borrow::Cow::Borrowed(cell.as_str()),
                };
                if i + 1 < cells.len() {
                    out.push_str(&console::pad_str(&shown, w, console::Alignment::Left, None));
                    out.push_str(&" ".repeat(GAP));
                } else {
                    out.push_str(&shown);
                }
            }
            format!("{}\n", out.trim_end())
        };
        let header: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        std::iter::once(line(&header))
            .chain(self.rows.iter().map(|r| line(r)))
            .collect()
    }
}

/// The columns between two cells.
const GAP: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&[
            ("ID", Kind::Key),
            ("NAME", Kind::Free),
            ("EXPIRES", Kind::Key),
        ]);
        t.row(vec![
            "4242".into(),
            "a trigger described by a very long webhook link https://hooks.example.com/a/b/c/d/e/f"
                .into(),
            "2027-01-05".into(),
        ]);
        t.row(vec!["7".into(), "short".into(), "-".into()]);
        t
    }

    #[test]
    fn on_a_terminal_rows_fit_one_line_each_and_keys_are_never_cut() {
        let text = sample().render(Layout::Terminal(50));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        for l in &lines {
            assert!(console::measure_text_width(l) <= 50, "{l:?}");
        }
        assert!(lines[1].starts_with("4242  "), "{text}");
        assert!(lines[1].contains('…'), "{text}");
        assert!(lines[1].ends_with("2027-01-05"), "{text}");
        assert!(lines[0].starts_with("ID    NAME"), "{text}");
    }

    #[test]
    fn piped_rows_are_full_values_separated_by_tabs_without_a_header() {
        let text = sample().render(Layout::Piped);
        let first = text.lines().next().unwrap();
        assert_eq!(first.split('\t').count(), 3);
        assert!(first.contains("https://hooks.example.com/a/b/c/d/e/f"));
        assert!(!text.contains("NAME"));
    }

    #[test]
    fn a_column_that_may_go_goes_before_a_row_overflows() {
        let mut t = Table::new(&[
            ("ID", Kind::Key),
            ("NAME", Kind::Free),
            ("LAST USED", Kind::Extra),
        ]);
        t.row(vec![
            "1".into(),
            "a name".into(),
            "2026-12-03T08:00:00Z".into(),
        ]);
        let narrow = t.render(Layout::Terminal(20));
        assert!(!narrow.contains("LAST USED"), "{narrow}");
        assert!(narrow.lines().all(|l| l.chars().count() <= 20), "{narrow}");
        let wide = t.render(Layout::Terminal(60));
        assert!(wide.contains("2026-12-03T08:00:00Z"), "{wide}");
        assert!(t.render(Layout::Piped).contains("2026-12-03T08:00:00Z"));
    }

    proptest::proptest! {
        /// Whatever the cells and the width, a table is a line a row plus its header, keys are
        /// never cut, and a row wider than the width has no free cell left to cut.
        #[test]
        fn rows_are_lines_and_keys_are_whole(
            rows in proptest::collection::vec(("[0-9]{1,8}", "[a-zé ]{0,60}", "[a-z]{0,30}"), 0..12),
            width in 10usize..160,
        ) {
            let mut t = Table::new(&[("ID", Kind::Key), ("NAME", Kind::Free), ("MORE", Kind::Extra)]);
            for (id, name, more) in &rows {
                t.row(vec![id.clone(), name.clone(), more.clone()]);
            }
            let text = t.render(Layout::Terminal(width));
            let lines: Vec<&str> = text.lines().collect();
            if lines.first() == Some(&"ID") || lines.first().is_some_and(|l| l.starts_with("ID ")) {
                // A table: a line a row, each starting with its whole id.
                proptest::prop_assert_eq!(lines.len(), rows.len() + 1);
                for ((id, _, _), line) in rows.iter().zip(&lines[1..]) {
                    proptest::prop_assert!(line.starts_with(id.as_str()), "{:?}", line);
                }
            } else {
                // Records, when even the keys do not fit: every id whole on a line of its own.
                for (id, _, _) in &rows {
                    proptest::prop_assert!(lines.contains(&id.as_str()), "{:?}", text);
                }
            }
            let piped = t.render(Layout::Piped);
            proptest::prop_assert_eq!(piped.lines().count(), rows.len());
        }
    }

    #[test]
    fn a_terminal_narrower_than_the_keys_gets_records() {
        let mut t = Table::new(&[("ID", Kind::Key), ("URL", Kind::Key)]);
        t.row(vec![
            "global".into(),
            "https://gitlab.zendesk.com/admin".into(),
        ]);
        t.row(vec!["x".into(), "https://x.example.com".into()]);
        let text = t.render(Layout::Terminal(30));
        assert_eq!(
            text,
            "global\n  URL  https://gitlab.zendesk.com/admin\n\nx\n  URL  https://x.example.com\n"
        );
    }

    #[test]
    fn a_tab_or_a_line_break_in_a_cell_breaks_no_row() {
        let mut t = Table::new(&[("ID", Kind::Key), ("NAME", Kind::Free)]);
        t.row(vec!["1".into(), "a\tb\nc".into()]);
        assert_eq!(t.render(Layout::Piped), "1\ta\\tb\\nc\n");
        assert_eq!(t.render(Layout::Terminal(40)).lines().count(), 2);
    }

    #[test]
    fn colour_takes_no_column() {
        let mut t = Table::new(&[("STATE", Kind::Key), ("NAME", Kind::Free)]);
        t.row(vec!["\u{1b}[33mdue\u{1b}[0m".into(), "x".into()]);
        t.row(vec!["expired".into(), "y".into()]);
        let text = t.render(Layout::Terminal(80));
        let plain = console::strip_ansi_codes(&text).into_owned();
        let at = |line: usize| plain.lines().nth(line).unwrap().rfind(['x', 'y']).unwrap();
        assert_eq!(at(1), at(2), "{plain}");
    }
}
